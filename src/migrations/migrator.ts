import type { Connection, Engine } from '../engine/engine.ts';
import { DatabaseError, MigrationError, SchemaVersionError } from '../errors/index.ts';
import { checksumOf, loadMigrations, type Migration } from './migration-files.ts';

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  /** Checksum of the down step as applied: rollback refuses a down step edited since. */
  downChecksum: string;
  appliedAt: Date;
}

export interface MigrationStatus {
  /** Highest applied version, 0 for an empty database. */
  current: number;
  /** Highest version this code knows. */
  latest: number;
  applied: AppliedMigration[];
  pending: Migration[];
  /** Applied migrations whose file no longer matches what was applied. */
  modified: AppliedMigration[];
  /** Applied migrations whose down step differs from the one recorded: rollback refuses them. */
  modifiedDown: AppliedMigration[];
}

export interface RollbackOptions {
  /** Run down steps that drop tables or columns holding data; without it such a rollback is refused. */
  force?: boolean;
}

// One key for every process migrating this database; pg_advisory_xact_lock frees it at commit.
const MIGRATION_LOCK_KEY = 7_461_830_201;

/**
 * The stored columns of every table a migration may have made (generated columns are derived, not
 * data; the migrator's own history is not the schema's). Names come quoted for use in a statement.
 */
const STORED_COLUMNS = `
SELECT c.oid::text AS table_oid, a.attnum::int AS attnum, c.relforcerowsecurity AS forced,
       CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END AS table_name,
       a.attname::text AS column_name,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS quoted_table, quote_ident(a.attname) AS quoted_column
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT (n.nspname = 'public' AND c.relname = 'schema_migrations')
 ORDER BY table_name, a.attnum`;

interface StoredColumn {
  table_oid: string;
  attnum: number;
  forced: boolean;
  table_name: string;
  column_name: string;
  quoted_table: string;
  quoted_column: string;
}

/** A table, or a column of a table that stays, that a down step drops. */
interface Dropped {
  migration: Migration;
  column: StoredColumn;
  /** The whole table goes, not only this column. */
  wholeTable: boolean;
}

const CREATE_HISTORY = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  down_checksum text NOT NULL
)`;

async function readApplied(connection: Connection): Promise<AppliedMigration[]> {
  const [exists] = await connection.query<{ present: boolean }>(
    `SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present`,
  );
  if (!exists?.present) return [];
  let rows: {
    version: number;
    name: string;
    checksum: string;
    down_checksum: string;
    applied_at: Date | string;
  }[];
  try {
    rows = await connection.query(
      'SELECT version, name, checksum, down_checksum, applied_at FROM schema_migrations ORDER BY version',
    );
  } catch (error) {
    // Every role may read the history from migration 1 on: a login role meets a database rolled back to 0.
    if (error instanceof DatabaseError && error.kind === 'insufficient_privilege')
      throw new SchemaVersionError(
        'the connecting role may not read schema_migrations: run `agentflow db migrate` as the schema owner first',
        { cause: error },
      );
    throw error;
  }
  return rows.map((row) => ({
    version: Number(row.version),
    name: row.name,
    checksum: row.checksum,
    downChecksum: row.down_checksum,
    appliedAt: new Date(row.applied_at),
  }));
}

/** Refuses, before any DDL, a connection that cannot create the schema (an application login role). */
async function assertMayMigrate(connection: Connection): Promise<void> {
  // Once there is a history, its owner is the schema owner; before, the right to create is what counts
  // (on PostgreSQL 14 and older every role may create in public, so that alone is not enough later).
  const [role] = await connection.query<{ name: string; may_migrate: boolean }>(
    `SELECT current_user AS name,
            CASE WHEN to_regclass('public.schema_migrations') IS NULL
                 THEN has_schema_privilege('public', 'CREATE')
                 ELSE pg_has_role((SELECT relowner FROM pg_class WHERE oid = to_regclass('public.schema_migrations')), 'USAGE')
            END AS may_migrate`,
  );
  if (!role?.may_migrate)
    throw new MigrationError(
      `the connecting role ${role?.name ?? '(unknown)'} does not own the schema: run migrations as the schema owner`,
    );
}

function statusOf(applied: AppliedMigration[], known: Migration[]): MigrationStatus {
  const knownByVersion = new Map(known.map((migration) => [migration.version, migration]));
  const appliedVersions = new Set(applied.map((migration) => migration.version));
  return {
    current: applied.reduce((max, migration) => Math.max(max, migration.version), 0),
    latest: known.length,
    applied,
    pending: known.filter((migration) => !appliedVersions.has(migration.version)),
    modified: applied.filter((migration) => {
      const file = knownByVersion.get(migration.version);
      return file !== undefined && file.checksum !== migration.checksum;
    }),
    modifiedDown: applied.filter((migration) => {
      const file = knownByVersion.get(migration.version);
      return file !== undefined && checksumOf(file.down) !== migration.downChecksum;
    }),
  };
}

/** Refuses a database that is ahead of this code or whose history no longer matches the files. */
function assertCompatible(status: MigrationStatus): void {
  if (status.current > status.latest) {
    throw new SchemaVersionError(
      `the database schema is at version ${status.current}, newer than this code knows (${status.latest}): upgrade AgentFlow DB before using this database`,
    );
  }
  const [modified] = status.modified;
  if (modified) {
    throw new MigrationError(
      `migration ${modified.version}_${modified.name} was edited after it was applied (checksum differs): add a new migration instead of changing an applied one`,
    );
  }
}

/** Applies and rolls back the numbered migrations of one database. */
export class Migrator {
  private constructor(
    private readonly engine: Engine,
    private readonly migrations: Migration[],
  ) {}

  static async create(engine: Engine, migrations?: Migration[]): Promise<Migrator> {
    return new Migrator(engine, migrations ?? (await loadMigrations()));
  }

  get latestVersion(): number {
    return this.migrations.length;
  }

  async status(): Promise<MigrationStatus> {
    return this.engine.transaction(undefined, async (connection) =>
      statusOf(await readApplied(connection), this.migrations),
    );
  }

  /** Throws unless the database is exactly at the version this code knows; reads only. */
  async assertUpToDate(): Promise<MigrationStatus> {
    const status = await this.status();
    assertCompatible(status);
    if (status.pending.length > 0) {
      throw new SchemaVersionError(
        `the database schema is at version ${status.current}, this code needs ${status.latest}: run \`agentflow db migrate\` (or openStore({ migrate: true }))`,
      );
    }
    return status;
  }

  /**
   * Applies every pending migration in one transaction under an advisory lock, so that two
   * processes starting together end in the same schema. An up-to-date database is only read.
   */
  async migrate(): Promise<Migration[]> {
    const before = await this.status();
    assertCompatible(before);
    if (before.pending.length === 0) return [];
    return this.engine.transaction(undefined, async (connection) => {
      await assertMayMigrate(connection);
      await connection.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await connection.exec(CREATE_HISTORY);
      // Another process may have migrated while this one waited for the lock.
      const status = statusOf(await readApplied(connection), this.migrations);
      assertCompatible(status);
      for (const migration of status.pending) {
        await this.run(connection, migration, 'up');
        await connection.query(
          'INSERT INTO schema_migrations (version, name, checksum, down_checksum) VALUES ($1, $2, $3, $4)',
          [migration.version, migration.name, migration.checksum, checksumOf(migration.down)],
        );
      }
      return status.pending;
    });
  }

  /**
   * Rolls back to `targetVersion` (default: one step back), newest first, in one transaction. A
   * down step that would drop a table holding rows, or a column holding a value, is refused
   * (naming each) unless `force` is given, before anything changes.
   */
  async rollback(targetVersion?: number, options: RollbackOptions = {}): Promise<Migration[]> {
    return this.engine.transaction(undefined, async (connection) => {
      await assertMayMigrate(connection);
      await connection.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const status = statusOf(await readApplied(connection), this.migrations);
      assertCompatible(status);
      const target = targetVersion ?? Math.max(status.current - 1, 0);
      if (!Number.isInteger(target) || target < 0 || target > status.current) {
        throw new MigrationError(
          `cannot roll back to version ${target}: the database is at version ${status.current}`,
        );
      }
      const undone = this.migrations
        .filter((m) => m.version > target && m.version <= status.current)
        .reverse();
      const [edited] = status.modifiedDown.filter((m) => m.version > target);
      if (edited) {
        throw new MigrationError(
          `the down step of migration ${edited.version}_${edited.name} was edited after the migration was applied (checksum differs): restore it, or roll back with the down step that was recorded`,
        );
      }
      if (!options.force) await this.refuseDataLoss(connection, undone);
      for (const migration of undone) {
        await this.run(connection, migration, 'down');
        await connection.query('DELETE FROM schema_migrations WHERE version = $1', [migration.version]);
      }
      return undone;
    });
  }

  /**
   * Runs the down steps once under a savepoint to learn, step by step from the catalog, which
   * tables and columns they drop, undoes that, and refuses if any of them holds data. Counting
   * needs every row: forced row-level security binds a non-superuser owner too (it sees today's
   * tables through the service policies, but a table need not have one), so it is lifted on the
   * tables counted, under a second savepoint undone before anything else runs.
   */
  private async refuseDataLoss(connection: Connection, undone: Migration[]): Promise<void> {
    const key = (c: StoredColumn) => `${c.table_oid}:${c.attnum}`;
    await connection.exec('SAVEPOINT agentflow_rollback_probe');
    let before = await connection.query<StoredColumn>(STORED_COLUMNS);
    const dropped: Dropped[] = [];
    for (const migration of undone) {
      await this.run(connection, migration, 'down');
      const after = await connection.query<StoredColumn>(STORED_COLUMNS);
      const columns = new Set(after.map(key));
      const tables = new Set(after.map((c) => c.table_oid));
      const reported = new Set<string>();
      for (const column of before) {
        if (columns.has(key(column))) continue;
        const wholeTable = !tables.has(column.table_oid);
        if (wholeTable && reported.has(column.table_oid)) continue;
        reported.add(column.table_oid);
        dropped.push({ migration, column, wholeTable });
      }
      before = after;
    }
    await connection.exec('ROLLBACK TO SAVEPOINT agentflow_rollback_probe');
    if (dropped.length === 0) return;

    await connection.exec('SAVEPOINT agentflow_rollback_count');
    for (const table of new Set(dropped.filter((d) => d.column.forced).map((d) => d.column.quoted_table)))
      await connection.exec(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    const losses: string[] = [];
    for (const { migration, column, wholeTable } of dropped) {
      const [found] = await connection.query<{ present: boolean }>(
        wholeTable
          ? `SELECT EXISTS (SELECT FROM ${column.quoted_table}) AS present`
          : `SELECT EXISTS (SELECT FROM ${column.quoted_table} WHERE ${column.quoted_column} IS NOT NULL) AS present`,
      );
      if (!found?.present) continue;
      losses.push(
        wholeTable
          ? `${migration.version}_${migration.name} drops table ${column.table_name}, which holds rows`
          : `${migration.version}_${migration.name} drops column ${column.table_name}.${column.column_name}, which holds values`,
      );
    }
    await connection.exec('ROLLBACK TO SAVEPOINT agentflow_rollback_count');
    if (losses.length > 0)
      throw new MigrationError(
        `rolling back would lose data: ${losses.join('; ')}. Nothing was rolled back; to drop the data, roll back with force (agentflow db rollback --force)`,
      );
  }

  private async run(connection: Connection, migration: Migration, direction: 'up' | 'down'): Promise<void> {
    try {
      await connection.exec(migration[direction]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(
        `migration ${migration.version}_${migration.name} (${direction}) failed: ${reason}`,
        { cause: error },
      );
    }
  }
}
