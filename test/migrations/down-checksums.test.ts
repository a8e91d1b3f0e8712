import { expect, it } from 'vitest';
import { loadMigrations, MigrationError, Migrator, verifyDatabase } from '../../src/index.ts';
import { checksumOf } from '../../src/migrations/migration-files.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught } from '../harness/fixtures.ts';

describeEachEngine('checksums of down steps', (h) => {
  const recorded = () =>
    h.asOwner((c) =>
      c.query<{ version: number; down_checksum: string }>(
        'SELECT version, down_checksum FROM schema_migrations ORDER BY version',
      ),
    );

  it('are recorded for every applied migration', async () => {
    const migrations = await loadMigrations();
    expect(await recorded()).toEqual(
      migrations.map((m) => ({ version: m.version, down_checksum: checksumOf(m.down) })),
    );
  });

  it('make rollback refuse a down step edited after it was applied, before undoing anything', async () => {
    const migrations = await loadMigrations();
    const last = migrations[migrations.length - 1]!;
    const edited = migrations.map((m) => (m === last ? { ...m, down: `${m.down}\n-- edited` } : m));
    const migrator = await Migrator.create(h.store.engine, edited);

    const status = await migrator.status();
    expect(status.modifiedDown.map((m) => m.version)).toEqual([last.version]);
    expect(status.modified).toEqual([]);
    const error = await caught(migrator.rollback(0));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(
      `down step of migration ${last.version}_${last.name} was edited`,
    );
    expect((await h.store.migrator.status()).current).toBe(last.version);
    const report = await h.asOwner((c) => verifyDatabase(c, status));
    expect(report.checks.flatMap((c) => c.problems)).toContain(
      `the down step of migration ${last.version}_${last.name} was edited after it was applied`,
    );
    // Opening the store is not blocked by it: only a rollback would run the down step.
    await expect(migrator.assertUpToDate()).resolves.toMatchObject({ current: last.version });
  });
});
