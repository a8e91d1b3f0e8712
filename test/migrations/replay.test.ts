import { beforeAll, expect, it } from 'vitest';
import type { Connection } from '../../src/engine/engine.ts';
import {
  loadMigrations,
  type Migration,
  MigrationError,
  Migrator,
  SchemaVersionError,
} from '../../src/index.ts';
import { checksumOf } from '../../src/migrations/migration-files.ts';
import { type CatalogSnapshot, catalogSnapshot, withoutHistory } from './catalog.ts';
import { describeEachEmptyEngine, useEmptyDatabase } from './empty-database.ts';

/** A migration built in the test; its checksum is computed the way loadMigrations does. */
function migration(version: number, name: string, up: string, down = 'SELECT 1'): Migration {
  return { version, name, up, down, checksum: checksumOf(up) };
}

async function historyRows(connection: Connection) {
  const [present] = await connection.query<{ present: boolean }>(
    `SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present`,
  );
  if (!present?.present) return null;
  return connection.query<{ version: number; name: string; checksum: string; applied_at: string }>(
    'SELECT version, name, checksum, applied_at::text AS applied_at FROM schema_migrations ORDER BY version',
  );
}

async function tableExists(connection: Connection, table: string): Promise<boolean> {
  const [row] = await connection.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [`public.${table}`],
  );
  return row?.present === true;
}

describeEachEmptyEngine('migrations replay from an empty database', (kind) => {
  const database = useEmptyDatabase(kind);
  let migrations: Migration[];
  let latest: number;
  let migrator: Migrator;
  let empty: CatalogSnapshot;
  let migrated: CatalogSnapshot;
  const snapshot = () => database().asOwner(catalogSnapshot);
  const history = () => database().asOwner(historyRows);
  const expectedHistory = () =>
    migrations.map(({ version, name, checksum }) => ({
      version,
      name,
      checksum,
      applied_at: expect.any(String),
    }));

  beforeAll(async () => {
    migrations = await loadMigrations();
    latest = migrations.length;
    migrator = await Migrator.create(database().engine);
    empty = await snapshot();
  });

  it('knows at least the three first migrations, numbered 1, 2, 3… with a down step each', () => {
    expect(latest).toBeGreaterThanOrEqual(3);
    expect(migrations.map((m) => m.version)).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
    expect(migrations.slice(0, 3).map((m) => m.name)).toEqual(['foundation', 'tenancy', 'projects']);
    for (const m of migrations) {
      expect(m.down.trim(), `${m.version}_${m.name} down`).not.toBe('');
      expect(m.checksum).toBe(checksumOf(m.up));
    }
    expect(migrator.latestVersion).toBe(latest);
  });

  it('reports version 0 with everything pending before the first migrate, and only reads', async () => {
    const status = await migrator.status();
    expect(status).toMatchObject({ current: 0, latest, applied: [], modified: [] });
    expect(status.pending.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    await expect(migrator.assertUpToDate()).rejects.toBeInstanceOf(SchemaVersionError);
    expect(await history()).toBeNull();
    expect(await snapshot()).toEqual(empty);
  });

  it('applies nothing, not even its history table, when the last migration of a first run fails', async () => {
    const failing = await Migrator.create(database().engine, [
      ...migrations,
      migration(
        latest + 1,
        'broken_on_purpose',
        'CREATE TABLE replay_probe (id int);\nSELECT * FROM no_such_table;',
      ),
    ]);
    const error = await failing.migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(`${latest + 1}_broken_on_purpose (up) failed`);
    expect(await history()).toBeNull();
    expect(await snapshot()).toEqual(empty);
    expect((await migrator.status()).current).toBe(0);
  });

  it('migrates from zero: every migration in order, checksums recorded, status up to date', async () => {
    const applied = await migrator.migrate();
    expect(applied.map((m) => `${m.version}_${m.name}`)).toEqual(
      migrations.map((m) => `${m.version}_${m.name}`),
    );
    const status = await migrator.status();
    expect(status).toMatchObject({ current: latest, latest, pending: [], modified: [] });
    expect(status.applied.map(({ version, name, checksum }) => ({ version, name, checksum }))).toEqual(
      migrations.map(({ version, name, checksum }) => ({ version, name, checksum })),
    );
    for (const row of status.applied) expect(Number.isNaN(row.appliedAt.getTime()), 'applied_at').toBe(false);
    expect(await history()).toEqual(expectedHistory());
    await expect(migrator.assertUpToDate()).resolves.toMatchObject({ current: latest });
    migrated = await snapshot();
    expect((migrated.relations ?? []).join('\n')).toMatch(
      /public\.projects kind=r .* rls=true force_rls=true/,
    );
  });

  it('applies nothing when migrated again', async () => {
    const before = await history();
    expect(await migrator.migrate()).toEqual([]);
    expect(await (await Migrator.create(database().engine)).migrate()).toEqual([]);
    expect(await history()).toEqual(before);
    expect(await snapshot()).toEqual(migrated);
  });

  it('applies nothing of a batch whose last migration fails on a migrated database', async () => {
    const before = await history();
    const failing = await Migrator.create(database().engine, [
      ...migrations,
      migration(latest + 1, 'good_on_its_own', 'CREATE TABLE replay_probe_ok (id int);'),
      migration(latest + 2, 'broken_on_purpose', 'CREATE TABLE replay_probe (id int);\nSELEC 1;'),
    ]);
    await expect(failing.migrate()).rejects.toThrow(MigrationError);
    await expect(failing.migrate()).rejects.toThrow(`${latest + 2}_broken_on_purpose`);
    expect(await history()).toEqual(before);
    expect(await database().asOwner((c) => tableExists(c, 'replay_probe_ok'))).toBe(false);
    expect(await snapshot()).toEqual(migrated);
  });

  it('refuses an applied migration whose up step was edited, naming it', async () => {
    for (const target of [migrations[1]!, migrations[latest - 1]!]) {
      const up = `${target.up}\n-- edited after it was applied\n`;
      const edited = migrations.map((m) =>
        m.version === target.version ? { ...m, up, checksum: checksumOf(up) } : m,
      );
      const editedMigrator = await Migrator.create(database().engine, edited);
      const name = `${target.version}_${target.name}`;
      expect((await editedMigrator.status()).modified.map((m) => m.version)).toEqual([target.version]);
      for (const [action, attempt] of [
        ['migrate', () => editedMigrator.migrate()],
        ['assertUpToDate', () => editedMigrator.assertUpToDate()],
        ['rollback', () => editedMigrator.rollback()],
      ] as const) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error, `${action} with ${name} edited`).toBeInstanceOf(MigrationError);
        expect((error as Error).message, action).toContain(`migration ${name} was edited`);
      }
    }
    expect(await history()).toEqual(expectedHistory());
    expect(await snapshot()).toEqual(migrated);
  });

  // openStore on such a database: startup.test.ts.
  it('refuses a database newer than the code (SchemaVersionError)', async () => {
    const older = await Migrator.create(database().engine, migrations.slice(0, -1));
    for (const [action, attempt] of [
      ['migrate', () => older.migrate()],
      ['assertUpToDate', () => older.assertUpToDate()],
      ['rollback', () => older.rollback()],
    ] as const) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error, action).toBeInstanceOf(SchemaVersionError);
      expect((error as Error).message, action).toContain(`version ${latest}, newer than this code knows`);
    }
    expect(await history()).toEqual(expectedHistory());
    expect(await snapshot()).toEqual(migrated);
  });

  it('rolls back one step', async () => {
    const undone = await migrator.rollback();
    expect(undone.map((m) => m.version)).toEqual([latest]);
    const status = await migrator.status();
    expect(status.current).toBe(latest - 1);
    expect(status.pending.map((m) => m.version)).toEqual([latest]);
    expect(await history()).toEqual(expectedHistory().slice(0, -1));
    expect(await snapshot()).not.toEqual(migrated);
    await expect(migrator.assertUpToDate()).rejects.toBeInstanceOf(SchemaVersionError);
  });

  it('refuses rollback targets that do not exist, changing nothing', async () => {
    const before = await snapshot();
    const current = latest - 1;
    for (const target of [current + 1, latest + 5, -1, 1.5, Number.NaN]) {
      const error = await migrator.rollback(target).catch((e: unknown) => e);
      expect(error, `rollback(${target})`).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toContain(`the database is at version ${current}`);
    }
    // Rolling back to where the database already is, is a valid no-op.
    expect(await migrator.rollback(current)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect((await migrator.status()).current).toBe(current);
  });

  it('rolls back everything with rollback(0), newest first, leaving only the empty history', async () => {
    const undone = await migrator.rollback(0);
    expect(undone.map((m) => m.version)).toEqual(
      migrations
        .slice(0, -1)
        .map((m) => m.version)
        .reverse(),
    );
    expect((await migrator.status()).current).toBe(0);
    expect(await history()).toEqual([]);
    expect(withoutHistory(await snapshot())).toEqual(empty);
    // Rolling back an empty database is a no-op.
    expect(await migrator.rollback()).toEqual([]);
  });

  it('migrates again after a full rollback to an identical schema', async () => {
    await migrator.rollback(0);
    const applied = await migrator.migrate();
    expect(applied.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    expect(await history()).toEqual(expectedHistory());
    expect(await snapshot()).toEqual(migrated);
  });

  it('each down step exactly undoes its up step', async () => {
    await migrator.rollback(0);
    const steps: CatalogSnapshot[] = [await snapshot()];
    for (const m of migrations) {
      const upTo = await Migrator.create(database().engine, migrations.slice(0, m.version));
      expect((await upTo.migrate()).map((x) => x.version)).toEqual([m.version]);
      steps.push(await snapshot());
    }
    expect(steps[latest]).toEqual(migrated);
    for (let version = latest; version >= 1; version--) {
      expect((await migrator.rollback()).map((x) => x.version)).toEqual([version]);
      expect(await snapshot(), `after rolling back ${version}`).toEqual(steps[version - 1]);
    }
    await migrator.migrate();
    expect(await snapshot()).toEqual(migrated);
  });
});
