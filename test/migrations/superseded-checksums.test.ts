import { afterEach, beforeAll, expect, it } from 'vitest';
import { loadMigrations, type Migration, MigrationError } from '../../src/index.ts';
import { checksumOf, SUPERSEDED_CHECKSUMS } from '../../src/migrations/migration-files.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught } from '../harness/fixtures.ts';

describeEachEngine('superseded checksums of applied migrations', (h) => {
  let migrations: Migration[];
  const record = (version: number, column: 'checksum' | 'down_checksum', value: string) =>
    h.asOwner((c) =>
      c.query(`UPDATE schema_migrations SET ${column} = $2 WHERE version = $1`, [version, value]),
    );
  const history = () =>
    h.asOwner((c) =>
      c.query<{ version: number; checksum: string; down_checksum: string }>(
        'SELECT version, checksum, down_checksum FROM schema_migrations ORDER BY version',
      ),
    );
  const problems = async () => (await h.store.verify()).checks.flatMap((check) => check.problems);

  beforeAll(async () => {
    migrations = await loadMigrations();
  });

  // Each test writes the history by hand: the next one starts from the checksums of the files.
  afterEach(async () => {
    for (const m of migrations) {
      await record(m.version, 'checksum', m.checksum);
      await record(m.version, 'down_checksum', checksumOf(m.down));
    }
  });

  it('name earlier texts of known migrations only', () => {
    for (const [version, { up = [], down = [] }] of SUPERSEDED_CHECKSUMS) {
      const file = migrations[version - 1];
      expect(file?.version, `version ${version}`).toBe(version);
      expect(up).not.toContain(file?.checksum);
      expect(down).not.toContain(checksumOf(file?.down ?? ''));
    }
  });

  it('are accepted as the migration unmodified by status, migrate, verify and rollback', async () => {
    for (const [version, { up = [], down = [] }] of SUPERSEDED_CHECKSUMS) {
      for (const checksum of up) await record(version, 'checksum', checksum);
      for (const checksum of down) await record(version, 'down_checksum', checksum);
    }
    const before = await history();
    const status = await h.store.migrator.status();
    expect(status).toMatchObject({ current: migrations.length, pending: [], modified: [], modifiedDown: [] });
    expect(await h.store.migrator.migrate()).toEqual([]);
    await expect(h.store.migrator.assertUpToDate()).resolves.toMatchObject({ current: migrations.length });
    expect(await problems()).toEqual([]);
    expect(await history(), 'an up-to-date database is only read').toEqual(before);

    // Rolling back runs the down steps as the files read now; applying again records their checksums.
    const lowest = Math.min(...SUPERSEDED_CHECKSUMS.keys());
    await h.store.migrator.rollback(lowest - 1);
    await h.store.migrator.migrate();
    expect(await history()).toEqual(
      migrations.map((m) => ({
        version: m.version,
        checksum: m.checksum,
        down_checksum: checksumOf(m.down),
      })),
    );
  });

  it('leave any other checksum refused, a superseded one recorded for another version included', async () => {
    const [supersededVersion, { up = [] }] = [...SUPERSEDED_CHECKSUMS].find(([, s]) => s.up?.length)!;
    const other = migrations.find((m) => m.version !== supersededVersion)!;
    for (const [version, checksum] of [
      [supersededVersion, checksumOf('-- an unknown text')],
      [other.version, up[0]!],
    ] as const) {
      await record(version, 'checksum', checksum);
      expect((await h.store.migrator.status()).modified.map((m) => m.version)).toEqual([version]);
      const error = await caught(h.store.migrator.migrate());
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(new RegExp(`migration ${version}_\\w+ was edited`));
      await expect(h.store.migrator.assertUpToDate()).rejects.toThrow(MigrationError);
      expect(await problems()).toContainEqual(
        expect.stringMatching(new RegExp(`^migration ${version}_\\w+ was edited`)),
      );
      await record(version, 'checksum', migrations[version - 1]!.checksum);
    }

    const [downVersion] = [...SUPERSEDED_CHECKSUMS].find(([, s]) => s.down?.length)!;
    await record(downVersion, 'down_checksum', checksumOf('-- an unknown down step'));
    expect((await h.store.migrator.status()).modifiedDown.map((m) => m.version)).toEqual([downVersion]);
    const error = await caught(h.store.migrator.rollback(downVersion - 1));
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(`down step of migration ${downVersion}_`);
    expect((await h.store.migrator.status()).current).toBe(migrations.length);
  });
});
