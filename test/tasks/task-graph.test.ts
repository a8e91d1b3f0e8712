import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  type Page,
  type Store,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

const pagesOf = async <Item>(
  limit: number,
  fetchPage: (page: { limit: number; cursor?: string }) => Promise<Page<Item>>,
): Promise<Item[]> => (await allPages(limit, fetchPage)).flat();

import { createTasks, finish } from './graph-fixtures.ts';

describeEachEngine('task graph', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const add = (taskId: string, dependsOnId: string) =>
    asUser((tx) => tx.taskDependencies.add({ taskId, dependsOnId }));
  const newProject = () =>
    asUser(async (tx) => (await tx.projects.create({ slug: `p-${randomUUID().slice(0, 8)}`, name: 'P' })).id);

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  describe('edges', () => {
    it('adds, lists and removes edges, and refuses duplicates, self edges, other projects and unknown tasks', async () => {
      const [a, b, c] = await createTasks(h, f.context, f.projectId, [{}, {}, {}]);
      const [elsewhere] = await createTasks(h, f.context, f.otherProjectId, [{}]);
      const [theirs] = await createTasks(h, other.context, other.projectId, [{}]);
      const edge = await add(a!, b!);
      expect(edge).toMatchObject({
        taskId: a,
        dependsOnId: b,
        projectId: f.projectId,
        tenantId: f.tenant.id,
      });
      await add(a!, c!);
      const listed = await asUser((tx) => tx.taskDependencies.list({ taskId: a!, limit: 1 }));
      expect(listed.items).toHaveLength(1);
      const all = await asUser((tx) =>
        pagesOf(1, (page) => tx.taskDependencies.list({ taskId: a!, ...page })),
      );
      expect(all.map((e) => e.dependsOnId).sort()).toEqual([b, c].sort());
      expect(
        (await asUser((tx) => tx.taskDependencies.list({ taskId: b!, direction: 'dependents' }))).items.map(
          (e) => e.taskId,
        ),
      ).toEqual([a]);

      expect(await caught(add(a!, b!))).toMatchObject({ code: 'duplicate' });
      expect(await caught(add(a!, a!))).toBeInstanceOf(ValidationError);
      const crossing = await caught(add(a!, elsewhere!));
      expect(crossing).toBeInstanceOf(ValidationError);
      expect((crossing as ValidationError).issues[0]?.path).toBe('dependsOnId');
      const unknown = await caught(add(a!, randomUUID()));
      expect(unknown).toBeInstanceOf(NotFoundError);
      expect(unknown).toMatchObject({ entity: 'task' });
      expect(await caught(add(a!, theirs!))).toBeInstanceOf(NotFoundError);
      expect(await caught(add(theirs!, a!))).toBeInstanceOf(NotFoundError);
      expect(
        await caught(asUser((tx) => tx.taskDependencies.add({ taskId: 'x', dependsOnId: a! }))),
      ).toBeInstanceOf(ValidationError);

      expect(await asUser((tx) => tx.taskDependencies.remove({ taskId: a!, dependsOnId: c! }))).toMatchObject(
        {
          dependsOnId: c,
        },
      );
      expect(
        await caught(asUser((tx) => tx.taskDependencies.remove({ taskId: a!, dependsOnId: c! }))),
      ).toBeInstanceOf(NotFoundError);
      expect(await caught(asUser((tx) => tx.taskDependencies.list({ taskId: randomUUID() })))).toBeInstanceOf(
        NotFoundError,
      );
      expect(await ownerCount(h, 'task_dependencies WHERE task_id = $1', [a])).toBe(1);
      expect(
        await ownerCount(h, `audit_logs WHERE table_name = 'task_dependencies' AND tenant_id = $1`, [
          f.tenant.id,
        ]),
      ).toBe(3);
    });

    it('refuses an edge that closes a cycle, however long', async () => {
      const ids = await createTasks(h, f.context, f.projectId, [{}, {}, {}, {}]);
      for (let i = 0; i < 3; i++) await add(ids[i]!, ids[i + 1]!);
      const error = await caught(add(ids[3]!, ids[0]!));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'cycle', entity: 'task dependency' });
      expect(await caught(add(ids[1]!, ids[0]!))).toMatchObject({ code: 'cycle' });
      // A shortcut in the same direction is no cycle.
      await add(ids[0]!, ids[3]!);
    });

    it('keeps raw SQL of the app role from a cycle, a cross-project edge, a self edge and moving a linked task', async () => {
      const [a, b] = await createTasks(h, f.context, f.projectId, [{}, {}]);
      const [elsewhere] = await createTasks(h, f.context, f.otherProjectId, [{}]);
      await add(a!, b!);
      const raw = (text: string, params: unknown[]) => caught(asUser((tx) => tx.query(text, params)));
      const insert = 'INSERT INTO task_dependencies (task_id, depends_on_id, project_id) VALUES ($1, $2, $3)';
      expect(await raw(insert, [b, a, f.projectId])).toMatchObject({ code: 'cycle' });
      expect(await raw(insert, [a, elsewhere, f.projectId])).toBeInstanceOf(ValidationError);
      expect(await raw(insert, [a, elsewhere, f.otherProjectId])).toBeInstanceOf(ValidationError);
      expect(await raw(insert, [a, a, f.projectId])).toBeInstanceOf(ValidationError);
      // A multi-row insert is checked row by row: the second row sees the first.
      const [x, y] = await createTasks(h, f.context, f.projectId, [{}, {}]);
      expect(
        await raw('INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2), ($2, $1)', [x, y]),
      ).toMatchObject({ code: 'cycle' });
      // Its edges would cross projects: the composite keys keep the task where it is.
      expect(
        await raw('UPDATE tasks SET project_id = $2 WHERE id = $1', [a, f.otherProjectId]),
      ).toMatchObject({
        code: 'still_referenced',
      });
      expect(
        await raw('UPDATE task_dependencies SET depends_on_id = $2 WHERE task_id = $1', [a, a]),
      ).toMatchObject({
        code: 'permission_denied',
      });
      expect(await ownerCount(h, 'task_dependencies WHERE task_id IN ($1, $2, $3)', [b, x, y])).toBe(0);
    });
  });

  describe('queries', () => {
    it('walks dependencies and dependents transitively with their depth, bounded and paged', async () => {
      const project = await newProject();
      // chain: t0 -> t1 -> t2 -> t3 -> t4, and a diamond shortcut t0 -> t2.
      const t = await createTasks(h, f.context, project, [{}, {}, {}, {}, {}]);
      for (let i = 0; i < 4; i++) await add(t[i]!, t[i + 1]!);
      await add(t[0]!, t[2]!);
      const deps = await asUser((tx) => tx.taskDependencies.dependencies(t[0]!));
      expect(deps.items.map((task) => [task.id, task.depth])).toEqual([
        ...[t[1], t[2]].sort().map((id) => [id, 1]),
        [t[3], 2],
        [t[4], 3],
      ]);
      expect(deps.items[0]).toMatchObject({ projectId: project, status: 'backlog' });
      const shallow = await asUser((tx) => tx.taskDependencies.dependencies(t[0]!, { maxDepth: 2 }));
      expect(shallow.items.map((task) => task.id)).not.toContain(t[4]);
      const paged = await asUser((tx) => pagesOf(1, (page) => tx.taskDependencies.dependencies(t[0]!, page)));
      expect(paged.map((task) => task.id)).toEqual(deps.items.map((task) => task.id));
      const dependents = await asUser((tx) => tx.taskDependencies.dependents(t[4]!));
      expect(dependents.items.map((task) => [task.id, task.depth])).toEqual(
        [
          [t[3], 1],
          [t[2], 2],
          [t[0], 3],
          [t[1], 3],
        ].sort((x, y) => (x[1] as number) - (y[1] as number) || String(x[0]).localeCompare(String(y[0]))),
      );
      expect(await caught(asUser((tx) => tx.taskDependencies.dependencies(randomUUID())))).toBeInstanceOf(
        NotFoundError,
      );
      expect(
        await caught(asUser((tx) => tx.taskDependencies.dependencies(t[0]!, { maxDepth: 0 }))),
      ).toBeInstanceOf(ValidationError);
      // Another tenant sees none of it.
      expect(
        await caught(h.store.withTenant(other.context, (tx) => tx.taskDependencies.dependencies(t[0]!))),
      ).toBeInstanceOf(NotFoundError);
    });

    it('lists ready tasks in queue order: completed and cancelled dependencies no longer block', async () => {
      const project = await newProject();
      const [done, dropped, open, p0, p1early, p1late, p1none, blocked, cancelledOnly] = await createTasks(
        h,
        f.context,
        project,
        [
          { title: 'done' },
          { title: 'dropped' },
          { title: 'open', priority: 'P3' },
          { title: 'p0', priority: 'P0' },
          { title: 'p1 early', priority: 'P1', deadline: '2030-01-01T00:00:00Z' },
          { title: 'p1 late', priority: 'P1', deadline: '2031-01-01T00:00:00Z' },
          { title: 'p1 none', priority: 'P1' },
          { title: 'blocked', priority: 'P0' },
          { title: 'after cancelled', priority: 'P2' },
        ],
      );
      await add(p0!, done!);
      await add(blocked!, open!);
      await add(blocked!, done!);
      await add(cancelledOnly!, dropped!);
      await finish(h, f.asAgent(f.lead), 'completed', done!);
      await finish(h, f.asAgent(f.lead), 'cancelled', dropped!);
      const expected = [p0, p1early, p1late, p1none, cancelledOnly, open];
      const ready = await asUser((tx) => tx.taskDependencies.readyTasks({ projectId: project }));
      expect(ready.items.map((task) => task.title)).toEqual([
        'p0',
        'p1 early',
        'p1 late',
        'p1 none',
        'after cancelled',
        'open',
      ]);
      const paged = await asUser((tx) =>
        pagesOf(1, (page) => tx.taskDependencies.readyTasks({ projectId: project, ...page })),
      );
      expect(paged.map((task) => task.id)).toEqual(expected);
      expect(
        await caught(asUser((tx) => tx.taskDependencies.readyTasks({ projectId: project, cursor: 'bogus' }))),
      ).toBeInstanceOf(ValidationError);
      expect(
        await caught(asUser((tx) => tx.taskDependencies.readyTasks({ projectId: randomUUID() }))),
      ).toBeInstanceOf(NotFoundError);
    });

    it('orders open tasks topologically and finds the critical path weighted by estimate', async () => {
      const project = await newProject();
      const [a, b, c, d, e, gone] = await createTasks(h, f.context, project, [
        { title: 'a', estimateHours: '2.50' },
        { title: 'b', estimateHours: '1.25' },
        { title: 'c' },
        { title: 'd', estimateHours: '10.00' },
        { title: 'e', estimateHours: '0.50' },
        { title: 'gone', estimateHours: '100.00' },
      ]);
      // d waits for b and c, b for a, c for a; e waits for d; gone is completed and leaves the graph.
      await add(b!, a!);
      await add(c!, a!);
      await add(d!, b!);
      await add(d!, c!);
      await add(e!, d!);
      await add(a!, gone!);
      await finish(h, f.asAgent(f.lead), 'completed', gone!);
      const order = await asUser((tx) => tx.taskDependencies.topologicalOrder({ projectId: project }));
      const position = new Map(order.items.map((task, i) => [task.id, i]));
      expect(order.items).toHaveLength(5);
      for (const task of order.items)
        for (const dependency of task.dependsOn)
          expect(position.get(dependency)!).toBeLessThan(position.get(task.id)!);
      expect(order.items.map((task) => [task.title, task.level])).toEqual([
        ['a', 0],
        ...(b! < c!
          ? [
              ['b', 1],
              ['c', 1],
            ]
          : [
              ['c', 1],
              ['b', 1],
            ]),
        ['d', 2],
        ['e', 3],
      ]);
      const paged = await asUser((tx) =>
        pagesOf(2, (page) => tx.taskDependencies.topologicalOrder({ projectId: project, ...page })),
      );
      expect(paged.map((task) => task.id)).toEqual(order.items.map((task) => task.id));

      const path = await asUser((tx) => tx.taskDependencies.criticalPath(project));
      // a (2.50) -> b (1.25) -> d (10) -> e (0.50) = 14.25, against a -> c (1, no estimate) … = 14.00.
      expect(path.tasks.map((task) => task.title)).toEqual(['a', 'b', 'd', 'e']);
      expect(path.totalHours).toBe('14.25');
      const empty = await newProject();
      expect(await asUser((tx) => tx.taskDependencies.criticalPath(empty))).toEqual({
        tasks: [],
        totalHours: '0.00',
      });
      expect(await caught(asUser((tx) => tx.taskDependencies.criticalPath(randomUUID())))).toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  it('never lets random edge sets form a cycle, and the order respects every edge (property)', async () => {
    const size = 7;
    const pairs = fc.array(
      fc
        .tuple(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 0, max: size - 1 }))
        .filter(([x, y]) => x !== y),
      { minLength: 1, maxLength: 18 },
    );
    await fc.assert(
      fc.asyncProperty(pairs, async (edges) => {
        const project = await newProject();
        const ids = await createTasks(
          h,
          f.context,
          project,
          Array.from({ length: size }, () => ({})),
        );
        const model = new Map<number, Set<number>>(ids.map((_, i) => [i, new Set<number>()]));
        const reaches = (from: number, to: number): boolean => {
          const seen = new Set<number>();
          const stack = [from];
          while (stack.length) {
            const at = stack.pop()!;
            if (at === to) return true;
            if (seen.has(at)) continue;
            seen.add(at);
            stack.push(...model.get(at)!);
          }
          return false;
        };
        for (const [task, dependency] of edges) {
          const duplicate = model.get(task)!.has(dependency);
          const closes = reaches(dependency, task);
          const outcome = await caught(add(ids[task]!, ids[dependency]!));
          if (duplicate) expect(outcome).toMatchObject({ code: 'duplicate' });
          else if (closes) expect(outcome).toMatchObject({ code: 'cycle' });
          else {
            expect(outcome).toBeUndefined();
            model.get(task)!.add(dependency);
          }
        }
        const order = await asUser((tx) => tx.taskDependencies.topologicalOrder({ projectId: project }));
        const position = new Map(order.items.map((task, i) => [task.id, i]));
        expect(order.items).toHaveLength(size);
        for (const [task, dependencies] of model)
          for (const dependency of dependencies)
            expect(position.get(ids[dependency]!)!).toBeLessThan(position.get(ids[task]!)!);
        expect(await ownerCount(h, 'task_dependencies WHERE project_id = $1', [project])).toBe(
          [...model.values()].reduce((n, s) => n + s.size, 0),
        );
      }),
      { numRuns: 12 },
    );
  });
});

describeEachEngine(
  'task graph under concurrency',
  (h) => {
    let f: TimelineFixture;
    let stores: Store[];
    beforeAll(async () => {
      f = await createTimelineTenant(h);
      stores = [await h.openAnother({ postgres: { max: 2 } }), await h.openAnother({ postgres: { max: 2 } })];
    });

    it('lets exactly one of A→B and B→A added at the same moment through', async () => {
      for (let round = 0; round < 10; round++) {
        const [a, b] = await createTasks(h, f.context, f.projectId, [{}, {}]);
        const outcomes = await Promise.allSettled([
          stores[0]!.withTenant(f.context, (tx) => tx.taskDependencies.add({ taskId: a!, dependsOnId: b! })),
          stores[1]!.withTenant(f.context, (tx) => tx.taskDependencies.add({ taskId: b!, dependsOnId: a! })),
        ]);
        const refused = outcomes.filter((o) => o.status === 'rejected');
        expect(refused, `round ${round}`).toHaveLength(1);
        expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'cycle' });
        expect(await ownerCount(h, 'task_dependencies WHERE task_id IN ($1, $2)', [a, b])).toBe(1);
      }
    });

    it('makes the second insert wait for the first transaction and then see its edge', async () => {
      const [a, b, c] = await createTasks(h, f.context, f.projectId, [{}, {}, {}]);
      let second: Promise<unknown> | undefined;
      await stores[0]!.withTenant(f.context, async (tx) => {
        await tx.taskDependencies.add({ taskId: a!, dependsOnId: b! });
        await tx.taskDependencies.add({ taskId: b!, dependsOnId: c! });
        // c → a closes a -> b -> c -> a only with the edges this open transaction holds.
        second = caught(
          stores[1]!.withTenant(f.context, (t2) => t2.taskDependencies.add({ taskId: c!, dependsOnId: a! })),
        );
        // Until it waits on the project's lock.
        for (let i = 0; i < 200; i++) {
          const [row] = await h.asOwner((c2) =>
            c2.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'`,
            ),
          );
          if (row!.n > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      expect(await second).toMatchObject({ code: 'cycle' });
      expect(await ownerCount(h, 'task_dependencies WHERE task_id IN ($1, $2, $3)', [a, b, c])).toBe(2);
    });
  },
  'server',
);
