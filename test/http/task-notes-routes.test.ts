import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { insertTask } from '../tasks/task-notes-fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface Row {
  id: string;
  [key: string]: unknown;
}

describeEachEngine('HTTP API: task comments, attachments and checkpoints', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let worker: Awaited<ReturnType<typeof agentWithKey>>;
  let projectId: string;
  let taskId: string;
  let theirTask: string;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    worker = await agentWithKey(h.store, a.tenant.id);
    const project = json<Row>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'web', name: 'Web' } }),
    );
    const theirProject = json<Row>(
      await call(api.app, 'POST', '/v1/projects', { key: b.agent.key, body: { slug: 'b', name: 'B' } }),
    );
    projectId = project.id;
    taskId = await insertTask(h.store, a.context, projectId);
    theirTask = await insertTask(h.store, b.context, theirProject.id);
  });
  afterAll(() => api?.close());

  it('comments as the calling agent, edits as the author only, deletes; 403 for someone else’s comment', async () => {
    const created = await call(api.app, 'POST', `/v1/tasks/${taskId}/comments`, {
      key: worker.key,
      body: { body: 'Ready for review', isAiGenerated: true, aiMetadata: { model: 'm' } },
    });
    expect(created.statusCode).toBe(201);
    const comment = json<Row>(created);
    expect(comment).toMatchObject({ authorAgentId: worker.agentId, authorUserId: null, editedAt: null });
    const url = `/v1/task-comments/${comment.id}`;
    const edited = await call(api.app, 'PATCH', url, {
      key: worker.key,
      body: { body: 'Ready, tests pass' },
    });
    expect(json(edited)).toMatchObject({ body: 'Ready, tests pass', editedAt: expect.any(String) });
    const foreign = await call(api.app, 'PATCH', url, { key: a.agent.key, body: { body: 'hijacked' } });
    expect(foreign.statusCode).toBe(403);
    expect(json(foreign)).toMatchObject({ type: 'not_author' });
    const list = json<{ items: Row[] }>(
      await call(api.app, 'GET', `/v1/tasks/${taskId}/comments`, { key: a.agent.key }),
    );
    expect(list.items.map((c) => c.body)).toEqual(['Ready, tests pass']);
    expect((await call(api.app, 'DELETE', url, { key: worker.key })).statusCode).toBe(204);
    expect((await call(api.app, 'GET', url, { key: worker.key })).statusCode).toBe(404);
  });

  it('keeps checkpoints: save, latest, restore (a new head); another task’s checkpoint is 404', async () => {
    const base = `/v1/tasks/${taskId}/checkpoints`;
    const first = json<Row>(
      await call(api.app, 'POST', base, { key: worker.key, body: { state: { step: 1 } } }),
    );
    await call(api.app, 'POST', base, { key: worker.key, body: { state: { step: 2 }, label: 'two' } });
    const restored = await call(api.app, 'POST', `${base}/${first.id}/restore`, {
      key: worker.key,
      body: {},
    });
    expect(restored.statusCode).toBe(201);
    expect(json(restored)).toMatchObject({ sequence: 3, state: { step: 1 }, restoredFromId: first.id });
    expect(json(await call(api.app, 'GET', `${base}/latest`, { key: a.agent.key }))).toEqual(json(restored));
    const history = json<{ items: Row[] }>(
      await call(api.app, 'GET', `${base}?limit=10`, { key: a.agent.key }),
    );
    expect(history.items.map((c) => c.sequence)).toEqual([1, 2, 3]);
    expect(
      json(await call(api.app, 'GET', `/v1/task-checkpoints/${first.id}`, { key: a.agent.key })),
    ).toMatchObject({ sequence: 1 });

    const otherTask = await insertTask(h.store, a.context, projectId);
    const elsewhere = await call(api.app, 'POST', `/v1/tasks/${otherTask}/checkpoints/${first.id}/restore`, {
      key: worker.key,
    });
    expect(elsewhere.statusCode).toBe(404);
    expect(await ownerCount(h, 'task_checkpoints WHERE task_id = $1', [otherTask])).toBe(0);
  });

  it('answers another tenant’s task with 404, bad bodies with 422 and a duplicate GitHub comment with 409', async () => {
    for (const [method, path, body] of [
      ['POST', `/v1/tasks/${theirTask}/comments`, { body: 'hi' }],
      [
        'POST',
        `/v1/tasks/${theirTask}/attachments`,
        { storagePath: 'a', sizeBytes: 1, contentType: 'text/plain' },
      ],
      ['POST', `/v1/tasks/${theirTask}/checkpoints`, { state: {} }],
      ['GET', `/v1/tasks/${theirTask}/checkpoints/latest`, undefined],
    ] as const) {
      const response = await call(api.app, method, path, { key: a.agent.key, body });
      expect(response.statusCode, `${method} ${path}`).toBe(404);
    }
    const attachment = await call(api.app, 'POST', `/v1/tasks/${taskId}/attachments`, {
      key: worker.key,
      body: { storagePath: 'shots/a.png', sizeBytes: 10, contentType: 'image/png' },
    });
    expect(json(attachment)).toMatchObject({ uploadedByAgentId: worker.agentId, sizeBytes: 10 });
    const bad = await call(api.app, 'POST', `/v1/tasks/${taskId}/attachments`, {
      key: worker.key,
      body: { storagePath: '', sizeBytes: -1, contentType: 'png' },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['contentType', 'sizeBytes', 'storagePath']);
    expect(await ownerCount(h, 'task_attachments WHERE task_id = $1', [taskId])).toBe(1);
    const badId = await call(api.app, 'GET', '/v1/task-attachments/A-1', { key: worker.key });
    expect(badId.statusCode).toBe(422);
    expect(
      (await call(api.app, 'GET', `/v1/task-attachments/${randomUUID()}`, { key: worker.key })).statusCode,
    ).toBe(404);

    const synced = { body: 'from GitHub', githubCommentId: 424242 };
    expect(
      (await call(api.app, 'POST', `/v1/tasks/${taskId}/comments`, { key: worker.key, body: synced }))
        .statusCode,
    ).toBe(201);
    const again = await call(api.app, 'POST', `/v1/tasks/${taskId}/comments`, {
      key: a.agent.key,
      body: synced,
    });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ type: 'duplicate' });
  });
});
