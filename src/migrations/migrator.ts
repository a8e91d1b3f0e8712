import type { Connection, Engine } from '../engine/engine.ts';
import { DatabaseError, MigrationError, SchemaVersionError } from '../errors/index.ts';
import { checksumOf, loadMigrations, type Migration, matchesChecksum } from './migration-files.ts';

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  /** Checksum of the down step as recorded (migration 7 on); null where none was recorded. */
  downChecksum: string | null;
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

// One key for every process migrating this database; pg_advisory_xact_lock frees it at commit.
const MIGRATION_LOCK_KEY = 7_461_830_201;

const CREATE_HISTORY = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
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
    down_checksum: string | null;
    applied_at: Date | string;
  }[];
  try {
    // Through to_jsonb, so that a history from before migration 7 (no down_checksum) reads the same.
    rows = await connection.query(
      `SELECT version, name, checksum, to_jsonb(m) ->> 'down_checksum' AS down_checksum, applied_at
         FROM schema_migrations m ORDER BY version`,
    );
  } catch (error) {
    // A login role meets a schema older than migration 4, which lets every role read the history.
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

/**
 * Records the down step's checksum of every applied migration that has none yet, once the history
 * has the column (migration 7): new migrations as they are applied, older ones as their files read now.
 */
async function recordDownChecksums(connection: Connection, known: Migration[]): Promise<void> {
  const [column] = await connection.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'public.schema_migrations'::regclass
                      AND attname = 'down_checksum' AND NOT attisdropped) AS present`,
  );
  if (!column?.present) return;
  await connection.query(
    `UPDATE schema_migrations m SET down_checksum = k.down_checksum
       FROM unnest($1::int[], $2::text[]) AS k(version, down_checksum)
      WHERE m.version = k.version AND m.down_checksum IS NULL`,
    [known.map((m) => m.version), known.map((m) => checksumOf(m.down))],
  );
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
      return file !== undefined && !matchesChecksum(file, 'up', migration.checksum);
    }),
    modifiedDown: applied.filter((migration) => {
      const file = knownByVersion.get(migration.version);
      return (
        file !== undefined &&
        migration.downChecksum !== null &&
        !matchesChecksum(file, 'down', migration.downChecksum)
      );
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
          'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
          [migration.version, migration.name, migration.checksum],
        );
      }
      await recordDownChecksums(connection, this.migrations);
      return status.pending;
    });
  }

  /** Rolls back to `targetVersion` (default: one step back), newest first, in one transaction. */
  async rollback(targetVersion?: number): Promise<Migration[]> {
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
      for (const migration of undone) {
        await this.run(connection, migration, 'down');
        await connection.query('DELETE FROM schema_migrations WHERE version = $1', [migration.version]);
      }
      return undone;
    });
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
