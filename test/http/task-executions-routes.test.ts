import { afterAll, beforeAll, expect, it } from 'vitest';
import { tasks } from '../../src/schema.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface Execution {
  id: string;
  status: string;
  agentId: string;
  projectId: string;
  costUsd: string;
  inputTokens: number;
}

describeEachEngine('HTTP API: task executions', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let worker: Awaited<ReturnType<typeof agentWithKey>>;
  let projectId: string;
  let taskId: string;
  const runsOf = (agentId: string) => ownerCount(h, 'task_executions WHERE agent_id = $1', [agentId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    worker = await agentWithKey(h.store, a.tenant.id);
    projectId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'api', name: 'API' } }),
    ).id;
    taskId = await h.store.withTenant(a.context, async (tx) => {
      const [task] = await tx.db
        .insert(tasks)
        .values({ tenantId: a.tenant.id, projectId, title: 'Wire the routes' })
        .returning({ id: tasks.id });
      return task!.id;
    });
  });
  afterAll(() => api?.close());

  it('records, reports usage and finishes a run as its agent; totals, history and the report follow', async () => {
    const created = await call(api.app, 'POST', '/v1/task-executions', {
      key: worker.key,
      body: { taskId, status: 'running', inputTokens: 100, costUsd: '0.1' },
    });
    expect(created.statusCode).toBe(201);
    const run = json<Execution>(created);
    expect(run).toMatchObject({ status: 'running', agentId: worker.agentId, projectId, costUsd: '0.100000' });
    const url = `/v1/task-executions/${run.id}`;
    const usage = await call(api.app, 'POST', `${url}/usage`, {
      key: worker.key,
      body: { outputTokens: 5, costUsd: '0.2' },
    });
    expect(json(usage)).toMatchObject({ costUsd: '0.300000', outputTokens: 5 });
    const finished = await call(api.app, 'POST', `${url}/finish`, {
      key: worker.key,
      body: { status: 'success', output: { pr: 12 } },
    });
    expect(json(finished)).toMatchObject({ status: 'success', costUsd: '0.300000' });
    expect((await call(api.app, 'GET', url, { key: a.agent.key })).body).toBe(finished.body);

    expect(
      json(await call(api.app, 'GET', `/v1/tasks/${taskId}/execution-totals`, { key: a.agent.key })),
    ).toMatchObject({
      taskId,
      executions: 1,
      succeeded: 1,
      inputTokens: 100,
      costUsd: '0.300000',
    });
    expect(json(await call(api.app, 'GET', '/v1/execution-totals', { key: a.agent.key }))).toMatchObject({
      costUsd: '0.300000',
    });
    const history = json<{
      items: Array<Execution & { task: { title: string } }>;
      nextCursor: string | null;
    }>(await call(api.app, 'GET', `/v1/agents/${worker.agentId}/executions?limit=10`, { key: a.agent.key }));
    expect(history.items.map((item) => [item.id, item.task.title])).toEqual([[run.id, 'Wire the routes']]);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const report = json<Array<{ dimension: string; agentId: string | null; costUsd: string }>>(
      await call(api.app, 'GET', `/v1/cost-report?from=${today}&to=${tomorrow}&groupBy=tenant,agent`, {
        key: a.agent.key,
      }),
    );
    expect(report).toEqual([
      expect.objectContaining({ dimension: 'tenant', agentId: null, costUsd: '0.300000' }),
      expect.objectContaining({ dimension: 'agent', agentId: worker.agentId, costUsd: '0.300000' }),
    ]);
    const list = json<{ items: Execution[] }>(
      await call(api.app, 'GET', `/v1/task-executions?taskId=${taskId}&status=success,failure`, {
        key: a.agent.key,
      }),
    );
    expect(list.items.map((item) => item.id)).toEqual([run.id]);

    // A final run is frozen: 409 execution_finished.
    const again = await call(api.app, 'POST', `${url}/finish`, {
      key: worker.key,
      body: { status: 'failure' },
    });
    expect(json(again)).toMatchObject({ status: 409, type: 'execution_finished' });
  });

  it('answers 404, 422 and 403 and writes nothing', async () => {
    const before = await runsOf(worker.agentId);
    const missing = await call(api.app, 'GET', `/v1/task-executions/${taskId}`, { key: a.agent.key });
    expect(json(missing)).toMatchObject({ status: 404, type: 'not_found' });
    const unknownTask = await call(api.app, 'POST', '/v1/task-executions', {
      key: worker.key,
      body: { taskId: projectId },
    });
    expect(json(unknownTask)).toMatchObject({ status: 404, type: 'not_found' });
    // A JSON number for a cost is refused: it may already be a rounded float.
    const float = await call(api.app, 'POST', '/v1/task-executions', {
      key: worker.key,
      body: { taskId, status: 'running', costUsd: 0.1 },
    });
    expect(float.statusCode).toBe(422);
    expect(json<{ errors: Array<{ path: string }> }>(float).errors.map((e) => e.path)).toEqual(['costUsd']);
    const negative = await call(api.app, 'POST', '/v1/task-executions', {
      key: worker.key,
      body: { taskId, status: 'running', inputTokens: -1 },
    });
    expect(negative.statusCode).toBe(422);
    const forOther = await call(api.app, 'POST', '/v1/task-executions', {
      key: worker.key,
      body: { taskId, agentId: a.agent.agentId },
    });
    expect(json(forOther)).toMatchObject({ status: 403 });
    const badRange = await call(api.app, 'GET', '/v1/cost-report?from=2026-02-01&to=2026-01-01', {
      key: a.agent.key,
    });
    expect(badRange.statusCode).toBe(422);
    expect(await runsOf(worker.agentId)).toBe(before);
    expect(await runsOf(a.agent.agentId)).toBe(0);
  });
});
