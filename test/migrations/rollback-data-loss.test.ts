import { beforeAll, expect, it } from 'vitest';
import { loadMigrations, type Migration, MigrationError, Migrator } from '../../src/index.ts';
import { checksumOf } from '../../src/migrations/migration-files.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('a rollback that would drop data needs force', (h) => {
  let migrator: Migrator;
  let probe: Migration;
  let f: TenantFixture;
  let projectId: string;
  const current = async () => (await migrator.status()).current;

  beforeAll(async () => {
    const migrations = await loadMigrations();
    const up = 'ALTER TABLE projects ADD COLUMN nickname text;\nCREATE TABLE scratch (id int);';
    const down = 'DROP TABLE scratch;\nALTER TABLE projects DROP COLUMN nickname;';
    probe = { version: migrations.length + 1, name: 'data_probe', up, down, checksum: checksumOf(up) };
    migrator = await Migrator.create(h.store.engine, [...migrations, probe]);
    f = await createTenant(h.store);
    projectId = (await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'p', name: 'P' })))
      .id;
  });

  it('rolls back without force when the dropped table and column hold nothing', async () => {
    await migrator.migrate();
    expect((await migrator.rollback()).map((m) => m.version)).toEqual([probe.version]);
    await migrator.migrate();
  });

  it('refuses a dropped table with rows, naming it, and changes nothing', async () => {
    await h.asOwner((c) => c.query('INSERT INTO scratch VALUES (1)'));
    const error = await caught(migrator.rollback());
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toBe(
      `rolling back would lose data: ${probe.version}_data_probe drops table scratch, which holds rows. Nothing was rolled back; to drop the data, roll back with force (agentflow db rollback --force)`,
    );
    expect(await current()).toBe(probe.version);
    expect(await ownerCount(h, 'scratch')).toBe(1);
    await h.asOwner((c) => c.query('DELETE FROM scratch'));
  });

  it('refuses a dropped column holding a value, written by a tenant under row-level security', async () => {
    await h.store.withTenant(f.context, (tx) =>
      tx.query(`UPDATE projects SET nickname = 'kept' WHERE id = $1`, [projectId]),
    );
    const error = await caught(migrator.rollback(0));
    expect((error as Error).message).toContain(
      `${probe.version}_data_probe drops column projects.nickname, which holds values`,
    );
    // The tables of the baseline hold rows too, and are named as well.
    expect((error as Error).message).toContain('3_projects drops table projects, which holds rows');
    expect(await current()).toBe(probe.version);
    expect(await ownerCount(h, `projects WHERE nickname = 'kept'`)).toBe(1);
  });

  it('drops it with force', async () => {
    expect((await migrator.rollback(undefined, { force: true })).map((m) => m.version)).toEqual([
      probe.version,
    ]);
    expect(await current()).toBe(probe.version - 1);
    expect(
      await ownerCount(h, `pg_attribute WHERE attrelid = 'projects'::regclass AND attname = 'nickname'`),
    ).toBe(0);
  });
});
