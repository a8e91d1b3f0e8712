import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface TaskBody {
  id: string;
  status: string;
  phase: string | null;
  title: string;
  assigneeAgentId: string | null;
  startedAt: string | null;
  retryCount: number;
}

describeEachEngine('HTTP API: tasks and the activity feed', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let worker: Awaited<ReturnType<typeof agentWithKey>>;
  let projectId: string;
  let theirTask: string;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    worker = await agentWithKey(h.store, a.tenant.id);
    projectId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'web', name: 'Web' } }),
    ).id;
    const theirProject = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: b.agent.key, body: { slug: 'b', name: 'B' } }),
    );
    theirTask = json<TaskBody>(
      await call(api.app, 'POST', '/v1/tasks', {
        key: b.agent.key,
        body: { projectId: theirProject.id, title: 'Theirs' },
      }),
    ).id;
  });
  afterAll(() => api?.close());

  it('creates, lists, changes, assigns, moves, imports and deletes tasks; the feed tells what happened', async () => {
    const created = await call(api.app, 'POST', '/v1/tasks', {
      key: a.agent.key,
      body: { projectId, title: 'Add login', priority: 'P1', deadline: '2030-01-01T00:00:00Z' },
    });
    expect(created.statusCode).toBe(201);
    const task = json<TaskBody>(created);
    expect(task).toMatchObject({
      status: 'backlog',
      title: 'Add login',
      priority: 'P1',
      deadline: '2030-01-01T00:00:00.000Z',
    });
    const url = `/v1/tasks/${task.id}`;

    const patched = await call(api.app, 'PATCH', url, { key: a.agent.key, body: { title: 'Add sign-in' } });
    expect(json(patched)).toMatchObject({ title: 'Add sign-in' });
    const assigned = await call(api.app, 'POST', `${url}/assign`, {
      key: a.agent.key,
      body: { agentId: worker.agentId },
    });
    expect(json(assigned)).toMatchObject({ status: 'assigned', assigneeAgentId: worker.agentId });
    const started = await call(api.app, 'POST', `${url}/transition`, {
      key: worker.key,
      body: { status: 'in_progress', phase: 'analyzing' },
    });
    expect(json(started)).toMatchObject({
      status: 'in_progress',
      phase: 'analyzing',
      startedAt: expect.any(String),
    });
    const listed = json<{ items: TaskBody[]; nextCursor: string | null }>(
      await call(api.app, 'GET', `/v1/tasks?projectId=${projectId}&status=in_progress,blocked&limit=10`, {
        key: a.agent.key,
      }),
    );
    expect(listed).toEqual({ items: [json(started)], nextCursor: null });
    expect((await call(api.app, 'GET', url, { key: worker.key })).body).toBe(started.body);
    const unassigned = await call(api.app, 'POST', `${url}/unassign`, { key: a.agent.key });
    expect(json(unassigned)).toMatchObject({ status: 'backlog', assigneeAgentId: null });

    const issue = {
      projectId,
      repository: 'acme/web',
      issueId: randomInt(1, 2 ** 40),
      issueNumber: 7,
      title: 'Bug',
    };
    const first = json(
      await call(api.app, 'POST', '/v1/tasks/github-import', { key: a.agent.key, body: issue }),
    );
    const second = json(
      await call(api.app, 'POST', '/v1/tasks/github-import', {
        key: a.agent.key,
        body: { ...issue, title: 'Bug, again' },
      }),
    );
    expect(first).toMatchObject({ created: true, task: { title: 'Bug' } });
    expect(second).toMatchObject({
      created: false,
      task: { id: (first.task as TaskBody).id, title: 'Bug, again' },
    });

    const feed = json<{ items: { kind: string; taskId: string }[] }>(
      await call(
        api.app,
        'GET',
        `/v1/activity-feed?projectId=${projectId}&taskId=${task.id}&publicOnly=true`,
        {
          key: a.agent.key,
        },
      ),
    );
    expect(feed.items.map((e) => e.kind)).toEqual([
      'task_status_changed',
      'task_status_changed',
      'task_assigned',
      'task_status_changed',
      'task_created',
    ]);

    const deleted = await call(api.app, 'DELETE', url, { key: a.agent.key });
    expect(deleted.statusCode).toBe(204);
    expect((await call(api.app, 'GET', url, { key: a.agent.key })).statusCode).toBe(404);
  });

  it('answers another tenant’s task with 404, bad input with 422 and an illegal move with 409', async () => {
    const url = `/v1/tasks/${theirTask}`;
    for (const [method, path, body] of [
      ['GET', url, undefined],
      ['PATCH', url, { title: 'hijacked' }],
      ['POST', `${url}/assign`, { agentId: a.agent.agentId }],
      ['POST', `${url}/unassign`, undefined],
      ['POST', `${url}/transition`, { status: 'cancelled' }],
      ['DELETE', url, undefined],
      ['GET', `/v1/tasks/${randomUUID()}`, undefined],
    ] as const) {
      const response = await call(api.app, method, path, { key: a.agent.key, body });
      expect(response.statusCode, `${method} ${path}`).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(
      await ownerCount(h, `tasks WHERE id = $1 AND status = 'backlog' AND title = 'Theirs'`, [theirTask]),
    ).toBe(1);

    const before = await ownerCount(h, 'tasks WHERE tenant_id = $1', [a.tenant.id]);
    for (const body of [
      { projectId, title: '' },
      { projectId, title: 'x', status: 'completed' },
      { projectId, title: 'x', assigneeAgentId: worker.agentId, assigneeUserId: a.owner.id },
    ]) {
      const response = await call(api.app, 'POST', '/v1/tasks', { key: a.agent.key, body });
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect(await ownerCount(h, 'tasks WHERE tenant_id = $1', [a.tenant.id])).toBe(before);

    const task = json<TaskBody>(
      await call(api.app, 'POST', '/v1/tasks', {
        key: a.agent.key,
        body: { projectId, title: 'Draft', status: 'draft' },
      }),
    );
    const illegal = await call(api.app, 'POST', `/v1/tasks/${task.id}/transition`, {
      key: a.agent.key,
      body: { status: 'completed' },
    });
    expect(illegal.statusCode).toBe(409);
    expect(json(illegal)).toMatchObject({
      type: 'invalid_transition',
      detail: expect.stringContaining('from draft to completed'),
    });
    const status = await call(api.app, 'PATCH', `/v1/tasks/${task.id}`, {
      key: a.agent.key,
      body: { status: 'completed' },
    });
    expect(status.statusCode).toBe(422);
    expect(
      json<TaskBody>(await call(api.app, 'GET', `/v1/tasks/${task.id}`, { key: a.agent.key })).status,
    ).toBe('draft');
  });
});
