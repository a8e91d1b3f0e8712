import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type Store,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createAgent, ownerCount } from '../harness/fixtures.ts';
import { createTasks, finish } from './graph-fixtures.ts';

describeEachEngine('work queue', (h) => {
  let f: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const newProject = () =>
    asUser(async (tx) => (await tx.projects.create({ slug: `q-${randomUUID().slice(0, 8)}`, name: 'Q' })).id);
  const claim = (agentId: string, projectId?: string) =>
    h.store.withTenant(f.asAgent(agentId), (tx) =>
      tx.taskQueue.claim(agentId, projectId ? { projectId } : {}),
    );
  const setAgentStatus = (agentId: string, status: string) =>
    h.asOwner((c) => c.query('UPDATE agents SET status = $2 WHERE id = $1', [agentId, status]));

  beforeAll(async () => {
    f = await createTimelineTenant(h);
  });

  it('hands out work by priority, then deadline (none last), then age, skipping unfinished dependencies', async () => {
    const project = await newProject();
    const agent = await createAgent(h.store, f.tenant.id);
    const [p2old] = await createTasks(h, f.context, project, [{ title: 'p2 old', priority: 'P2' }]);
    const [p2new, p1none, p1late, p1early, p0blocked, dependency] = await createTasks(h, f.context, project, [
      { title: 'p2 new', priority: 'P2' },
      { title: 'p1 none', priority: 'P1' },
      { title: 'p1 late', priority: 'P1', deadline: '2031-01-01T00:00:00Z' },
      { title: 'p1 early', priority: 'P1', deadline: '2030-01-01T00:00:00Z' },
      { title: 'p0 blocked', priority: 'P0' },
      { title: 'dependency', priority: 'P3' },
    ]);
    await asUser((tx) => tx.taskDependencies.add({ taskId: p0blocked!, dependsOnId: dependency! }));
    // Taken by others: a user's task and another agent's.
    await createTasks(h, f.asAgent(f.lead), project, [
      { title: 'theirs', priority: 'P0', assigneeAgentId: f.lead },
    ]);

    const peek = await h.store.withTenant(f.asAgent(agent), (tx) =>
      tx.taskQueue.next(agent, { projectId: project }),
    );
    expect(peek?.title).toBe('p1 early');
    expect(await ownerCount(h, `tasks WHERE id = $1 AND status = 'backlog'`, [p1early])).toBe(1);

    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      const task = await claim(agent, project);
      expect(task).toMatchObject({ status: 'in_progress', assigneeAgentId: agent, phase: 'agent_working' });
      order.push(task!.id);
    }
    expect(order).toEqual([p1early, p1late, p1none, p2old, p2new]);
    // Only the dependency is left; once it is done, the P0 task comes first.
    expect((await claim(agent, project))?.id).toBe(dependency);
    expect(await claim(agent, project)).toBeNull();
    await finish(h, f.asAgent(agent), 'completed', dependency!);
    expect((await claim(agent, project))?.id).toBe(p0blocked);
    expect(await claim(agent, project)).toBeNull();
  });

  it('takes tasks assigned to the agent, keeps project agents in their project, and lets an agent claim only for itself', async () => {
    const dev = await createAgent(h.store, f.tenant.id, { projectId: f.projectId });
    const [mine] = await createTasks(h, f.asAgent(dev), f.projectId, [
      { title: 'mine', priority: 'P3', assigneeAgentId: dev },
    ]);
    await createTasks(h, f.context, f.otherProjectId, [{ title: 'elsewhere', priority: 'P0' }]);
    const claimed = await claim(dev);
    // Unassigned work of its project may come first; its own assigned task is among what it takes.
    const taken = [claimed!.id];
    for (let task = await claim(dev); task; task = await claim(dev)) taken.push(task.id);
    expect(taken).toContain(mine);
    expect(
      await h.store.withTenant(f.asAgent(dev), (tx) =>
        tx.taskQueue.next(dev, { projectId: f.otherProjectId }),
      ),
    ).toBeNull();
    expect(
      await ownerCount(h, `tasks WHERE project_id = $1 AND assignee_agent_id = $2`, [f.otherProjectId, dev]),
    ).toBe(0);

    const other = await createAgent(h.store, f.tenant.id);
    const forbidden = await caught(h.store.withTenant(f.asAgent(other), (tx) => tx.taskQueue.claim(dev)));
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect(await caught(asUser((tx) => tx.taskQueue.claim(randomUUID())))).toBeInstanceOf(NotFoundError);
    expect(await caught(asUser((tx) => tx.taskQueue.claim('nope')))).toBeInstanceOf(ValidationError);
  });

  it('never gives P0 work to an agent on probation, and nothing to a terminated one, in the database too', async () => {
    const project = await newProject();
    const agent = await createAgent(h.store, f.tenant.id);
    const [p0, p1] = await createTasks(h, f.context, project, [
      { title: 'p0', priority: 'P0' },
      { title: 'p1', priority: 'P1' },
    ]);
    await setAgentStatus(agent, 'probation');
    expect((await claim(agent, project))?.id).toBe(p1);
    expect(await claim(agent, project)).toBeNull();
    // Raw SQL as the app role: the tasks trigger refuses the assignment the queue would not make.
    const raw = await caught(
      h.store.withTenant(f.asAgent(agent), (tx) =>
        tx.query(`UPDATE tasks SET assignee_agent_id = $2, status = 'in_progress' WHERE id = $1`, [
          p0,
          agent,
        ]),
      ),
    );
    expect(raw).toMatchObject({ code: 'agent_on_probation' });

    const ended = await createAgent(h.store, f.tenant.id);
    await setAgentStatus(ended, 'terminated');
    const refused = await caught(asUser((tx) => tx.taskQueue.claim(ended, { projectId: project })));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: 'agent_unavailable' });
    expect(await caught(asUser((tx) => tx.taskQueue.next(ended)))).toMatchObject({
      code: 'agent_unavailable',
    });
    const rawEnded = await caught(
      asUser((tx) =>
        tx.query(`UPDATE tasks SET assignee_agent_id = $2, status = 'in_progress' WHERE id = $1`, [
          p0,
          ended,
        ]),
      ),
    );
    expect(rawEnded).toMatchObject({ code: 'agent_unavailable' });
    expect(
      await ownerCount(h, `tasks WHERE id = $1 AND status = 'backlog' AND assignee_agent_id IS NULL`, [p0]),
    ).toBe(1);
  });
});

describeEachEngine(
  'work queue under concurrency',
  (h) => {
    let f: TimelineFixture;
    let stores: Store[];
    beforeAll(async () => {
      f = await createTimelineTenant(h);
      stores = await Promise.all(Array.from({ length: 20 }, () => h.openAnother({ postgres: { max: 1 } })));
    });

    it('lets 20 agents claim 100 ready tasks concurrently: each exactly once, none lost', async () => {
      const project = await h.store.withTenant(
        f.context,
        async (tx) => (await tx.projects.create({ slug: 'race', name: 'Race' })).id,
      );
      const agents = await Promise.all(stores.map(() => createAgent(h.store, f.tenant.id)));
      const ids = await createTasks(
        h,
        f.context,
        project,
        Array.from({ length: 100 }, (_, i) => ({ priority: (['P0', 'P1', 'P2', 'P3'] as const)[i % 4] })),
      );
      const claims = await Promise.all(
        stores.map(async (store, i) => {
          const agentId = agents[i]!;
          const mine: string[] = [];
          for (;;) {
            const task = await store.withTenant(f.asAgent(agentId), (tx) =>
              tx.taskQueue.claim(agentId, { projectId: project }),
            );
            if (!task) return mine;
            expect(task.assigneeAgentId).toBe(agentId);
            mine.push(task.id);
          }
        }),
      );
      const all = claims.flat();
      expect(all).toHaveLength(100);
      expect(new Set(all).size).toBe(100);
      expect([...all].sort()).toEqual([...ids].sort());
      expect(claims.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      const [row] = await h.asOwner((c) =>
        c.query<{ n: number; agents: number }>(
          `SELECT count(*)::int AS n, count(DISTINCT assignee_agent_id)::int AS agents FROM tasks
            WHERE project_id = $1 AND status = 'in_progress'`,
          [project],
        ),
      );
      expect(row!.n).toBe(100);
    });
  },
  'server',
);
