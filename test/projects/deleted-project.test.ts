import { beforeAll, expect, it } from 'vitest';
import { type DatabaseError, NotFoundError, type TenantTx } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('the files and state of a soft-deleted project', (h) => {
  let f: TenantFixture;
  let projectId: string;

  const rowsOf = (table: string) =>
    h.asOwner((c) =>
      c.query<{ detail: string }>(
        `SELECT t::text AS detail FROM ${table} t WHERE project_id = $1 ORDER BY 1`,
        [projectId],
      ),
    );

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = await h.store.withTenant(f.context, async (tx) => {
      const project = await tx.projects.create({ slug: 'doomed', name: 'Doomed' });
      await tx.projectFiles.upsert({ projectId: project.id, path: 'README.md', content: 'v1' });
      await tx.agentStates.save({ projectId: project.id, state: { step: 1 }, expectedVersion: null });
      await tx.projects.delete(project.id);
      return project.id;
    });
  });

  it('are gone to readers, as the project is', async () => {
    await h.store.withTenant(f.context, async (tx) => {
      expect(await caught(tx.agentStates.get(projectId))).toBeInstanceOf(NotFoundError);
      expect(await caught(tx.projectFiles.get(projectId, 'README.md'))).toBeInstanceOf(NotFoundError);
      expect((await tx.projectFiles.list(projectId)).items).toEqual([]);
    });
  });

  it('cannot be changed through the repositories: NotFoundError, nothing written', async () => {
    const files = await rowsOf('project_files');
    const states = await rowsOf('agent_states');
    const attempts: Array<(tx: TenantTx) => Promise<unknown>> = [
      (tx: TenantTx) => tx.agentStates.save({ projectId, state: { step: 2 }, expectedVersion: 1 }),
      (tx: TenantTx) => tx.projectFiles.upsert({ projectId, path: 'README.md', content: 'v2' }),
      (tx: TenantTx) => tx.projectFiles.delete(projectId, 'README.md'),
    ];
    for (const attempt of attempts) {
      const error = await caught(h.store.withTenant(f.context, attempt));
      expect(error).toBeInstanceOf(NotFoundError);
    }
    expect(await rowsOf('project_files')).toEqual(files);
    expect(await rowsOf('agent_states')).toEqual(states);
  });

  it('cannot be changed with raw SQL either: the database refuses the update, as it refuses a missing project', async () => {
    for (const statement of [
      `UPDATE agent_states SET state = '{"step": 9}' WHERE project_id = $1`,
      `UPDATE project_files SET content = 'raw' WHERE project_id = $1`,
    ]) {
      const error = await caught(h.store.withTenant(f.context, (tx) => tx.query(statement, [projectId])));
      // The constraint table maps the project foreign key to NotFoundError, whichever path hit it.
      expect(error).toBeInstanceOf(NotFoundError);
      expect(((error as Error).cause as DatabaseError).kind).toBe('foreign_key_violation');
    }
  });
});
