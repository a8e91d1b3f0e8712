import { beforeAll, expect, it } from 'vitest';
import type { Connection } from '../../src/engine/engine.ts';
import {
  loadMigrations,
  type Migration,
  MigrationError,
  NO_TENANT_ID,
  SchemaVersionError,
} from '../../src/index.ts';
import { JSON_DOCUMENT_MAX_BYTES } from '../../src/shared/validation.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

/** The tables 0003_projects creates, and drops again on the way down. */
const PROJECT_TABLES = ['projects', 'project_files', 'agent_states'];
/** Tables of earlier migrations: their rows must outlive a rollback of 0003. */
const KEPT_TABLES = ['tenants', 'users', 'memberships', 'audit_logs'];

/**
 * An audit row in its text form, with the no-tenant sentinel of 0009 (second column) read as the
 * NULL it stands for before 0009, so that a row reads the same at every version.
 */
const AUDIT_ROW_TEXT = `regexp_replace(t::text, '^\\((\\d+),${NO_TENANT_ID},', '(\\1,,')`;

/**
 * Every row of a table in its text form, which shows every column byte for byte. For tenants the
 * usage counters (and so updated_at) are left out: the down step of 0003 resets the `projects`
 * counter of the rows it drops, by intent, and the tests check that counter on its own.
 */
async function rowsOf(connection: Connection, table: string): Promise<string[]> {
  const row =
    table === 'tenants'
      ? `(to_jsonb(t) - 'usage' - 'updated_at')::text`
      : table === 'audit_logs'
        ? AUDIT_ROW_TEXT
        : 't::text';
  const rows = await connection.query<{ row: string }>(`SELECT ${row} AS row FROM ${table} t ORDER BY 1`);
  return rows.map((r) => r.row);
}

async function projectCounters(connection: Connection): Promise<Array<string | null>> {
  const rows = await connection.query<{ n: string | null }>(
    `SELECT usage ->> 'projects' AS n FROM tenants ORDER BY id`,
  );
  return rows.map((r) => r.n);
}

async function keptRows(connection: Connection): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of KEPT_TABLES) result[table] = await rowsOf(connection, table);
  return result;
}

async function existingTables(connection: Connection, tables: string[]): Promise<string[]> {
  const rows = await connection.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relname = ANY($1::text[]) ORDER BY 1`,
    [tables],
  );
  return rows.map((r) => r.name);
}

describeEachEngine('rolling back and re-applying 0003_projects and later on a populated database', (h) => {
  let projectsMigration: Migration;
  /** 0003 and every migration after it, oldest first: what a rollback to version 2 undoes. */
  let undoneByRollback: Migration[];
  let a: TenantFixture;
  let b: TenantFixture;
  let before: Record<string, string[]>;

  beforeAll(async () => {
    const migrations = await loadMigrations();
    projectsMigration = migrations.find((m) => m.name === 'projects')!;
    undoneByRollback = migrations.filter((m) => m.version >= projectsMigration.version);
    a = await createTenant(h.store, { quotas: { projects: 10 } });
    b = await createTenant(h.store);
    await h.store.asService({ actor: 'up-down-up' }, async (svc) => {
      const member = await svc.users.create({
        email: `member@${a.tenant.slug}.test`,
        name: 'A member with a password',
        password: 'correct horse battery staple',
        githubId: 4242,
        githubUsername: 'member-a',
      });
      await svc.memberships.add(a.tenant.id, { userId: member.id, role: 'member' });
      await svc.memberships.add(b.tenant.id, { userId: member.id, role: 'admin' });
      await svc.tenants.setPlan(b.tenant.id, 'professional');
    });
    for (const fixture of [a, b]) {
      await h.store.withTenant(fixture.context, async (tx) => {
        await tx.tenant.updateSettings({ theme: 'dark', locale: 'fr-FR' });
        const project = await tx.projects.create({
          slug: 'alpha',
          name: 'Alpha',
          techStack: ['typescript', 'postgres'],
          config: { ci: true },
        });
        await tx.projectFiles.upsert({ projectId: project.id, path: 'README.md', content: '# Alpha\n' });
        await tx.projectFiles.upsert({
          projectId: project.id,
          path: 'src/index.ts',
          content: 'export {};\n',
        });
        await tx.agentStates.save({ projectId: project.id, state: { step: 1 }, expectedVersion: null });
        await tx.agentStates.save({ projectId: project.id, state: { step: 2 }, expectedVersion: 1 });
        await tx.projects.update(project.id, { description: 'the first project' });
      });
    }
    before = await h.asOwner(keptRows);
  });

  it('starts from a populated database with an audit trail of every table', async () => {
    expect(projectsMigration.version).toBe(3);
    expect(before.tenants).toHaveLength(2);
    expect(before.users).toHaveLength(3);
    expect(before.memberships).toHaveLength(4);
    const audited = await h.asOwner((c) =>
      c.query<{ table_name: string; n: number }>(
        'SELECT table_name, count(*)::int AS n FROM audit_logs GROUP BY table_name ORDER BY table_name',
      ),
    );
    expect(audited.map((r) => r.table_name)).toEqual([
      'agent_states',
      'memberships',
      'project_files',
      'projects',
      'tenants',
      'users',
    ]);
    expect(await h.asOwner((c) => existingTables(c, PROJECT_TABLES))).toEqual([...PROJECT_TABLES].sort());
  });

  it('rolls back to version 2: the tables of 0003 go, every older row stays byte for byte', async () => {
    const undone = await h.store.migrator.rollback(projectsMigration.version - 1);
    expect(undone.map((m) => m.version)).toEqual(undoneByRollback.map((m) => m.version).reverse());
    expect((await h.store.migrator.status()).current).toBe(projectsMigration.version - 1);
    await expect(h.store.migrator.assertUpToDate()).rejects.toBeInstanceOf(SchemaVersionError);
    expect(await h.asOwner((c) => existingTables(c, PROJECT_TABLES))).toEqual([]);
    // The audit trail, created by 0001, keeps the rows that recorded the dropped tables' history.
    const after = await h.asOwner(keptRows);
    for (const table of ['tenants', 'users', 'memberships'])
      expect(after[table], table).toEqual(before[table]);
    expect(after.audit_logs).toEqual(expect.arrayContaining(before.audit_logs!));
    // The project counters went with the projects they counted.
    expect(await h.asOwner(projectCounters)).toEqual([null, null]);
  });

  it('migrates up again: older rows intact, the audit trail kept, the store works again', async () => {
    const applied = await h.store.migrator.migrate();
    expect(applied.map((m) => m.version)).toEqual(undoneByRollback.map((m) => m.version));
    await expect(h.store.migrator.assertUpToDate()).resolves.toMatchObject({
      current: h.store.migrator.latestVersion,
    });
    expect(await h.asOwner((c) => existingTables(c, PROJECT_TABLES))).toEqual([...PROJECT_TABLES].sort());
    const reapplied = await h.asOwner(keptRows);
    for (const table of ['tenants', 'users', 'memberships'])
      expect(reapplied[table], table).toEqual(before[table]);

    const project = await h.store.withTenant(a.context, async (tx) => {
      // The projects of before were dropped with their tables, by intent.
      expect(await tx.projects.list()).toEqual([]);
      const created = await tx.projects.create({ slug: 'alpha', name: 'Alpha again' });
      await tx.projectFiles.upsert({ projectId: created.id, path: 'README.md', content: 'again' });
      await tx.agentStates.save({ projectId: created.id, state: { step: 1 }, expectedVersion: null });
      return created;
    });
    await h.store.withTenant(a.context, async (tx) => {
      expect((await tx.projects.getBySlug('alpha')).id).toBe(project.id);
      expect((await tx.projectFiles.get(project.id, 'README.md')).content).toBe('again');
      expect(await tx.memberships.list()).toHaveLength(2);
    });
    await h.store.withTenant(b.context, async (tx) => {
      expect(await tx.projects.list()).toEqual([]);
      expect((await tx.tenant.current()).plan).toBe('professional');
    });

    // The new writes were audited, after the rows of before, which are all still there.
    const after = await h.asOwner(keptRows);
    for (const table of ['users', 'memberships']) expect(after[table], table).toEqual(before[table]);
    expect(after.tenants).toEqual(before.tenants);
    // The one live project is counted exactly once: the counter restarted from zero.
    await h.store.withTenant(a.context, async (tx) =>
      expect((await tx.tenant.current()).usage.projects).toBe(1),
    );
    expect(after.audit_logs).toEqual(expect.arrayContaining(before.audit_logs!));
    const added = await h.asOwner((c) =>
      c.query<{ table_name: string; action: string }>(
        `SELECT table_name, action FROM audit_logs t WHERE NOT (${AUDIT_ROW_TEXT} = ANY($1::text[])) ORDER BY id`,
        [before.audit_logs],
      ),
    );
    expect(added.filter((row) => PROJECT_TABLES.includes(row.table_name))).toEqual([
      { table_name: 'projects', action: 'insert' },
      { table_name: 'project_files', action: 'insert' },
      { table_name: 'agent_states', action: 'insert' },
    ]);
    // Besides them, only tenants' usage counters were updated (reset on the way down, A's new project).
    for (const row of added.filter((r) => !PROJECT_TABLES.includes(r.table_name)))
      expect(row).toEqual({ table_name: 'tenants', action: 'update' });
  });
});

describeEachEngine('applying 0010_tenant_settings_size to settings already over 1 MiB', (h) => {
  it('fails naming the constraint and changes nothing, then applies once the settings are trimmed', async () => {
    const migration = (await loadMigrations()).find((m) => m.name === 'tenant_settings_size')!;
    const f = await createTenant(h.store);
    await h.store.migrator.rollback(migration.version - 1);
    const settingsBytes = async () => {
      const [row] = await h.asOwner((c) =>
        c.query<{ n: number }>('SELECT octet_length(settings::text)::int AS n FROM tenants WHERE id = $1', [
          f.tenant.id,
        ]),
      );
      return row?.n;
    };
    // Written past the repository, as settings could grow before the bound existed.
    await h.asOwner((c) =>
      c.query(`UPDATE tenants SET settings = jsonb_build_object('big', repeat('x', $2)) WHERE id = $1`, [
        f.tenant.id,
        JSON_DOCUMENT_MAX_BYTES,
      ]),
    );
    const oversized = await settingsBytes();
    expect(oversized).toBeGreaterThan(JSON_DOCUMENT_MAX_BYTES);
    const error = await h.store.migrator.migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(`${migration.version}_${migration.name} (up) failed`);
    expect((error as Error).message).toContain('tenants_settings_size');
    expect((await h.store.migrator.status()).current).toBe(migration.version - 1);
    expect(await settingsBytes()).toBe(oversized);

    await h.asOwner((c) => c.query(`UPDATE tenants SET settings = '{}' WHERE id = $1`, [f.tenant.id]));
    const reapplied = (await h.store.migrator.migrate()).map((m) => m.version);
    expect(reapplied[0]).toBe(migration.version);
    expect(reapplied.at(-1)).toBe(h.store.migrator.latestVersion);
  });
});
