import { beforeAll, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, type TenantTx, UsageError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('single-statement units of work', (h) => {
  let f: TenantFixture;
  let projectId: string;
  const single = <T>(work: (tx: TenantTx) => Promise<T>, readOnly = false) =>
    h.store.withTenant(f.context, work, { singleStatement: true, readOnly });
  const filePaths = () =>
    h.asOwner(async (c) =>
      (
        await c.query<{ path: string }>(
          'SELECT path FROM project_files WHERE project_id = $1 ORDER BY path',
          [projectId],
        )
      ).map((row) => row.path),
    );

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = await h.store.withTenant(
      f.context,
      async (tx) => (await tx.projects.create({ slug: 'single', name: 'Single' })).id,
    );
  });

  it('read with the tenant context set, read-only or not', async () => {
    expect((await single((tx) => tx.projects.get(projectId))).slug).toBe('single');
    expect((await single((tx) => tx.projects.get(projectId), true)).slug).toBe('single');
    const [row] = await single((tx) =>
      tx.query<{ tenant: string }>(`SELECT current_setting('agentflow.tenant_id') AS tenant`),
    );
    expect(row?.tenant).toBe(f.tenant.id);
  });

  it('commit a write, audited with the unit’s actor', async () => {
    const file = await single((tx) => tx.projectFiles.upsert({ projectId, path: 'one.md', content: '1' }));
    expect(await filePaths()).toContain('one.md');
    const { items: audit } = await h.store.withTenant(f.context, (tx) =>
      tx.auditLogs.list({ tableName: 'project_files', rowId: file.id }),
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'insert', actorType: 'user', actorId: f.owner.id });
  });

  it('refuse a second statement before it reaches the database; the first one stands', async () => {
    const error = await single(async (tx) => {
      await tx.projectFiles.upsert({ projectId, path: 'first.md', content: 'x' });
      await tx.projectFiles.upsert({ projectId, path: 'second.md', content: 'x' });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/second statement/);
    const paths = await filePaths();
    expect(paths).toContain('first.md');
    expect(paths).not.toContain('second.md');
  });

  it('keep a statement that succeeded when the work throws afterwards, as the server already committed it', async () => {
    const error = await single(async (tx) => {
      await tx.projectFiles.upsert({ projectId, path: 'kept.md', content: 'x' });
      throw new Error('work failed after its statement');
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('work failed after its statement');
    expect(await filePaths()).toContain('kept.md');
  });

  it('report a failed statement with its typed error, write nothing and leave the engine usable', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(
      single((tx) => tx.projectFiles.upsert({ projectId: missing, path: 'orphan.md', content: 'x' })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      single((tx) => tx.projectFiles.upsert({ projectId, path: 'read-only.md', content: 'x' }), true),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(await filePaths()).not.toContain('read-only.md');
    expect((await single((tx) => tx.projects.get(projectId))).id).toBe(projectId);
  });

  it('allow work that runs no statement at all', async () => {
    expect(await single(async () => 'nothing to do')).toBe('nothing to do');
  });
});
