import { eq, getTableColumns, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { agentStates } from '../../src/agents/agent-states.schema.ts';
import { compileStatement } from '../../src/index.ts';
import { projects } from '../../src/projects/projects.schema.ts';
import type { TenantTx } from '../../src/store/unit-of-work.ts';
import { users } from '../../src/tenancy/users.schema.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('compiled statements', (h) => {
  let f: TenantFixture;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  beforeAll(async () => {
    f = await createTenant(h.store);
  });

  it('decode every column type exactly as the query builder does', async () => {
    const byId = compileStatement(getTableColumns(projects), ['id'], (db, p) =>
      db.select().from(projects).where(eq(projects.id, p.id)),
    );
    await inTenant(async (tx) => {
      const created = await tx.projects.create({
        slug: 'compiled-decode',
        name: 'Decode',
        description: null,
        techStack: ['ts', 'sql'],
        config: { nested: { list: [1, 'two', null] }, flag: true },
        githubInstallationId: 42,
      });
      await tx.projects.archive(created.id);
      const [compiled] = await byId.run(tx, { id: created.id });
      const [built] = await tx.db.select().from(projects).where(eq(projects.id, created.id));
      expect(compiled).toEqual(built);
      expect(compiled?.createdAt).toBeInstanceOf(Date);
      expect(compiled?.archivedAt).toBeInstanceOf(Date);
      expect(compiled?.config).toEqual({ nested: { list: [1, 'two', null] }, flag: true });
      expect(compiled?.techStack).toEqual(['ts', 'sql']);
      expect(compiled?.deletedAt).toBeNull();
    });
  });

  it('decode a chosen subset of columns by name, in the order they are selected', async () => {
    const { email, name, id } = getTableColumns(users);
    const columns = { name, email, id };
    const someUser = compileStatement(columns, ['id'], (db, p) =>
      db.select(columns).from(users).where(eq(users.id, p.id)),
    );
    await inTenant(async (tx) => {
      const [row] = await someUser.run(tx, { id: f.owner.id });
      expect(row).toEqual({ name: f.owner.name, email: f.owner.email, id: f.owner.id });
    });
  });

  it('refuse rows whose columns are not the ones declared', async () => {
    const { id, name } = getTableColumns(users);
    const declaredTooFew = compileStatement({ id }, ['id'], (db, p) =>
      db.select({ id, name }).from(users).where(eq(users.id, p.id)),
    );
    await expect(inTenant((tx) => declaredTooFew.run(tx, { id: f.owner.id }))).rejects.toThrow(
      /returns 2 columns but declares 1/,
    );
  });

  it('build the SQL once and bind each call its own values', async () => {
    let builds = 0;
    const bySlug = compileStatement(getTableColumns(projects), ['slug'], (db, p) => {
      builds += 1;
      return db.select().from(projects).where(eq(projects.slug, p.slug));
    });
    await inTenant((tx) => tx.projects.create({ slug: 'compiled-once-a', name: 'A' }));
    await inTenant((tx) => tx.projects.create({ slug: 'compiled-once-b', name: 'B' }));
    const names = [];
    for (const slug of ['compiled-once-a', 'compiled-once-b', 'compiled-once-a'])
      names.push(await inTenant(async (tx) => (await bySlug.run(tx, { slug }))[0]?.name));
    expect(names).toEqual(['A', 'B', 'A']);
    expect(builds).toBe(1);
    const { sql: text, params } = await inTenant(async (tx) => bySlug.toSQL(tx.db));
    expect(text).toContain('$1');
    expect(text).not.toContain('compiled-once');
    expect(params).toHaveLength(1);
  });

  it('store JSON sent through a placeholder as JSON, not as a string of JSON', async () => {
    const project = await inTenant((tx) => tx.projects.create({ slug: 'compiled-json', name: 'JSON' }));
    const state = { step: 1, notes: ['a "quoted" note'] };
    const insert = compileStatement(
      getTableColumns(agentStates),
      ['tenantId', 'projectId', 'state'],
      (db, p) =>
        db
          .insert(agentStates)
          .values({ tenantId: p.tenantId, projectId: p.projectId, state: p.state })
          .returning(),
    );
    const update = compileStatement(getTableColumns(agentStates), ['projectId', 'state'], (db, p) =>
      db
        .update(agentStates)
        .set({ state: sql`${sql.param(p.state, agentStates.state)}` })
        .where(eq(agentStates.projectId, p.projectId))
        .returning(),
    );
    const kinds = async () =>
      h.asOwner((c) =>
        c.query<{ kind: string }>(
          'SELECT jsonb_typeof(state) AS kind FROM agent_states WHERE project_id = $1',
          [project.id],
        ),
      );
    const [inserted] = await inTenant((tx) =>
      insert.run(tx, { tenantId: f.tenant.id, projectId: project.id, state }),
    );
    expect(inserted?.state).toEqual(state);
    expect(await kinds()).toEqual([{ kind: 'object' }]);
    const [updated] = await inTenant((tx) => update.run(tx, { projectId: project.id, state: { step: 2 } }));
    expect(updated?.state).toEqual({ step: 2 });
    expect(await kinds()).toEqual([{ kind: 'object' }]);
  });

  it('stay confined to the tenant of the unit of work', async () => {
    const other = await createTenant(h.store);
    const foreign = await h.store.withTenant(other.context, (tx) =>
      tx.projects.create({ slug: 'compiled-foreign', name: 'Foreign' }),
    );
    const byId = compileStatement(getTableColumns(projects), ['id'], (db, p) =>
      db.select().from(projects).where(eq(projects.id, p.id)),
    );
    expect(await inTenant((tx) => byId.run(tx, { id: foreign.id }))).toEqual([]);
    expect(await h.store.withTenant(other.context, (tx) => byId.run(tx, { id: foreign.id }))).toHaveLength(1);
  });
});
