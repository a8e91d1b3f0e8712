import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface Started {
  session: { id: string; status: string; stoppedAt: string | null };
  updates: { since: string | null; mentions: { items: { id: number }[]; nextCursor: string | null } };
}

describeEachEngine('HTTP API: work sessions', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let worker: Awaited<ReturnType<typeof agentWithKey>>;
  let projectId: string;
  let theirSession: string;
  const start = (key: string, agentId: string) =>
    call(api.app, 'POST', '/v1/work-sessions', { key, body: { agentId, projectId } });
  const sessionsOf = (agentId: string) => ownerCount(h, 'work_sessions WHERE agent_id = $1', [agentId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    worker = await agentWithKey(h.store, a.tenant.id);
    const project = await call(api.app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'api', name: 'API' },
    });
    projectId = json<{ id: string }>(project).id;
    const theirProject = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: b.agent.key, body: { slug: 'b', name: 'B' } }),
    );
    const theirs = await call(api.app, 'POST', '/v1/work-sessions', {
      key: b.agent.key,
      body: { agentId: b.agent.agentId, projectId: theirProject.id },
    });
    theirSession = json<Started>(theirs).session.id;
  });
  afterAll(() => api?.close());

  it('starts, logs, records a task and stops a session as its agent; a stopped session is frozen', async () => {
    const started = await start(worker.key, worker.agentId);
    expect(started.statusCode).toBe(201);
    const { session, updates } = json<Started>(started);
    expect(session).toMatchObject({ status: 'started', stoppedAt: null });
    expect(updates).toEqual({ since: null, mentions: { items: [], nextCursor: null }, tasks: [] });
    expect(json(await start(worker.key, worker.agentId))).toMatchObject({
      status: 409,
      type: 'session_open',
    });

    const url = `/v1/work-sessions/${session.id}`;
    const logged = await call(api.app, 'POST', `${url}/log`, {
      key: worker.key,
      body: { message: 'wired the routes', context: { progress: 50 } },
    });
    expect(logged.statusCode).toBe(201);
    expect(json(logged)).toMatchObject({
      type: 'session_log',
      sessionId: session.id,
      projectId,
      authorId: worker.agentId,
      payload: { message: 'wired the routes', context: { progress: 50 } },
    });
    const taskId = randomUUID();
    await call(api.app, 'POST', `${url}/tasks`, { key: worker.key, body: { taskId } });
    const recorded = await call(api.app, 'POST', `${url}/tasks`, { key: worker.key, body: { taskId } });
    expect(json(recorded)).toMatchObject({ status: 'logging', tasksWorkedOn: [taskId] });

    const stopped = await call(api.app, 'POST', `${url}/stop`, { key: worker.key });
    expect(stopped.statusCode).toBe(200);
    expect(json(stopped)).toMatchObject({ status: 'stopped', durationSeconds: expect.any(Number) });
    expect((await call(api.app, 'GET', url, { key: a.agent.key })).body).toBe(stopped.body);
    const late = await call(api.app, 'POST', `${url}/log`, { key: worker.key, body: { message: 'late' } });
    expect(json(late)).toMatchObject({ status: 409, type: 'session_stopped' });
    expect(await ownerCount(h, 'events WHERE session_id = $1', [session.id])).toBe(3);
  });

  it('hands the next session the mentions since the last stop, and pages sessions newest first', async () => {
    const [previous] = json<{ items: { id: string; stoppedAt: string }[] }>(
      await call(api.app, 'GET', `/v1/work-sessions?agentId=${worker.agentId}&status=stopped`, {
        key: worker.key,
      }),
    ).items;
    const mention = json<{ id: number }>(
      await call(api.app, 'POST', '/v1/events', {
        key: a.agent.key,
        body: { type: 'question_asked', payload: { question: 'Done?' }, mentions: [worker.agentId] },
      }),
    );
    const next = json<Started>(await start(worker.key, worker.agentId));
    expect(next.updates.since).toBe(previous!.stoppedAt);
    expect(next.updates.mentions.items.map((e) => e.id)).toEqual([mention.id]);

    const list = `/v1/work-sessions?agentId=${worker.agentId}&limit=1`;
    const first = json(await call(api.app, 'GET', list, { key: a.agent.key }));
    expect(first).toMatchObject({ items: [{ id: next.session.id }], nextCursor: expect.any(String) });
    const second = json(
      await call(api.app, 'GET', `${list}&cursor=${first.nextCursor}`, { key: a.agent.key }),
    );
    expect(second).toMatchObject({ items: [{ id: previous!.id }], nextCursor: null });
    await call(api.app, 'POST', `/v1/work-sessions/${next.session.id}/stop`, { key: worker.key });
  });

  it('answers another tenant’s session with 404, bad bodies with 422 and another agent’s start with 403', async () => {
    const url = `/v1/work-sessions/${theirSession}`;
    for (const [method, path, body] of [
      ['GET', url, undefined],
      ['POST', `${url}/log`, { message: 'hi' }],
      ['POST', `${url}/tasks`, { taskId: randomUUID() }],
      ['POST', `${url}/stop`, undefined],
    ] as const) {
      const response = await call(api.app, method, path, { key: a.agent.key, body });
      expect(response.statusCode, `${method} ${path}`).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await ownerCount(h, `work_sessions WHERE id = $1 AND status = 'started'`, [theirSession])).toBe(1);

    const sessions = await sessionsOf(worker.agentId);
    const bad = await call(api.app, 'POST', '/v1/work-sessions', {
      key: worker.key,
      body: { agentId: 'me', projectId, metadata: [] },
    });
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['agentId', 'metadata']);
    const own = json<Started>(await start(worker.key, worker.agentId)).session.id;
    const badLog = await call(api.app, 'POST', `/v1/work-sessions/${own}/log`, {
      key: worker.key,
      body: { message: '', context: { line: 0 } },
    });
    expect(
      json<{ errors: { path: string }[] }>(badLog)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['context.line', 'message']);
    const badTask = await call(api.app, 'POST', `/v1/work-sessions/${own}/tasks`, {
      key: worker.key,
      body: { taskId: 'T-1' },
    });
    expect(json(badTask)).toMatchObject({ status: 422, errors: [{ path: 'taskId' }] });
    const forOther = await start(worker.key, a.agent.agentId);
    expect(forOther.statusCode).toBe(403);
    expect(forOther.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await sessionsOf(worker.agentId)).toBe(sessions + 1);
    expect(await sessionsOf(a.agent.agentId)).toBe(0);
    expect(await ownerCount(h, 'events WHERE session_id = $1', [own])).toBe(1);
  });
});
