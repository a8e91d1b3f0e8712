import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { createTasks } from '../tasks/graph-fixtures.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: task graph and work queue', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let projectId: string;
  let tasks: string[];
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    projectId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'g', name: 'G' } }),
    ).id;
    tasks = await createTasks(h, a.context, projectId, [
      { title: 'first', priority: 'P2', estimateHours: '3.00' },
      { title: 'second', priority: 'P0' },
    ]);
  });
  afterAll(() => api?.close());

  it('adds an edge, walks and orders the graph, and claims the ready task', async () => {
    const [first, second] = tasks as [string, string];
    const added = await call(api.app, 'POST', `/v1/tasks/${second}/dependencies`, {
      key: a.agent.key,
      body: { dependsOnId: first },
    });
    expect(added.statusCode).toBe(201);
    expect(json(added)).toMatchObject({ taskId: second, dependsOnId: first, projectId });
    const list = json(await call(api.app, 'GET', `/v1/tasks/${second}/dependencies`, { key: a.agent.key }));
    expect(list).toMatchObject({ items: [{ dependsOnId: first }], nextCursor: null });
    const walk = json(
      await call(api.app, 'GET', `/v1/tasks/${first}/transitive-dependents?maxDepth=3`, { key: a.agent.key }),
    );
    expect(walk).toMatchObject({ items: [{ id: second, depth: 1 }] });
    const order = json<{ items: { id: string }[] }>(
      await call(api.app, 'GET', `/v1/projects/${projectId}/topological-order`, { key: a.agent.key }),
    );
    expect(order.items.map((t: { id: string }) => t.id)).toEqual([first, second]);
    const path = json(
      await call(api.app, 'GET', `/v1/projects/${projectId}/critical-path`, { key: a.agent.key }),
    );
    expect(path).toMatchObject({
      totalHours: '4.00',
      tasks: [{ id: first }, { id: second, dependsOn: [first] }],
    });
    const ready = json<{ items: { id: string }[] }>(
      await call(api.app, 'GET', `/v1/projects/${projectId}/ready-tasks`, { key: a.agent.key }),
    );
    expect(ready.items.map((t: { id: string }) => t.id)).toEqual([first]);

    const url = `/v1/agents/${a.agent.agentId}`;
    expect(json(await call(api.app, 'GET', `${url}/next-task`, { key: a.agent.key }))).toMatchObject({
      task: { id: first },
    });
    const claimed = await call(api.app, 'POST', `${url}/claim`, { key: a.agent.key, body: { projectId } });
    expect(claimed.statusCode).toBe(200);
    expect(json(claimed)).toMatchObject({
      task: { id: first, status: 'in_progress', assigneeAgentId: a.agent.agentId },
    });
    expect(json(await call(api.app, 'POST', `${url}/claim`, { key: a.agent.key, body: {} }))).toEqual({
      task: null,
    });
  });

  it('answers a cycle with 409, bad input with 422, unknown rows with 404, another agent’s claim with 403', async () => {
    const [first, second] = tasks as [string, string];
    const cycle = await call(api.app, 'POST', `/v1/tasks/${first}/dependencies`, {
      key: a.agent.key,
      body: { dependsOnId: second },
    });
    expect(json(cycle)).toMatchObject({ status: 409, type: 'cycle' });
    const bad = await call(api.app, 'POST', `/v1/tasks/${first}/dependencies`, {
      key: a.agent.key,
      body: { dependsOnId: 'x' },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      (
        await call(api.app, 'GET', `/v1/tasks/${first}/transitive-dependencies?maxDepth=0`, {
          key: a.agent.key,
        })
      ).statusCode,
    ).toBe(422);
    expect(
      (await call(api.app, 'DELETE', `/v1/tasks/${first}/dependencies/${randomUUID()}`, { key: a.agent.key }))
        .statusCode,
    ).toBe(404);
    expect(
      (await call(api.app, 'GET', `/v1/projects/${randomUUID()}/critical-path`, { key: a.agent.key }))
        .statusCode,
    ).toBe(404);
    const other = await tenantWithAgent(h.store);
    expect(
      (await call(api.app, 'GET', `/v1/tasks/${first}/dependencies`, { key: other.agent.key })).statusCode,
    ).toBe(404);
    expect(
      (await call(api.app, 'POST', `/v1/agents/${randomUUID()}/claim`, { key: a.agent.key, body: {} }))
        .statusCode,
    ).toBe(403);
    const removed = await call(api.app, 'DELETE', `/v1/tasks/${second}/dependencies/${first}`, {
      key: a.agent.key,
    });
    expect(removed.statusCode).toBe(200);
    expect(await ownerCount(h, 'task_dependencies WHERE task_id = $1', [second])).toBe(0);
  });
});
