import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tasks } from '../../src/tasks/tasks.schema.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, ownerToken, startApi, tenantWithAgent } from './api-fixtures.ts';

interface Row {
  id: string;
  status: string;
  approvalStatus: string;
  decidedBy: string | null;
}

describeEachEngine('HTTP API: artifacts and approvals', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let owner: string;
  let projectId: string;
  let taskId: string;
  let theirArtifact: string;
  const taskStatus = async (id: string) =>
    (await h.asOwner((c) => c.query<{ status: string }>('SELECT status FROM tasks WHERE id = $1', [id])))[0]
      ?.status;

  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    owner = await ownerToken(api, a);
    projectId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'web', name: 'Web' } }),
    ).id;
    // The tasks routes are another domain's: the task is made with Drizzle, assigned and started.
    taskId = await h.store.withTenant(
      { tenantId: a.tenant.id, actor: { type: 'agent', id: a.agent.agentId } },
      async (tx) => {
        const [task] = await tx.db
          .insert(tasks)
          .values({
            tenantId: a.tenant.id,
            projectId,
            title: 'Login form',
            status: 'assigned',
            assigneeAgentId: a.agent.agentId,
          })
          .returning();
        await tx.db.update(tasks).set({ status: 'in_progress' }).where(eq(tasks.id, task!.id));
        return task!.id;
      },
    );
    theirArtifact = await h.store.withTenant(b.context, async (tx) => {
      const project = await tx.projects.create({ slug: 'b', name: 'B' });
      const [task] = await tx.db
        .insert(tasks)
        .values({ tenantId: b.tenant.id, projectId: project.id, title: 'Theirs' })
        .returning();
      return (await tx.artifacts.create({ taskId: task!.id, type: 'document', path: 'theirs.md' })).id;
    });
  });
  afterAll(() => api?.close());

  it('an agent hands in an artifact and asks for approval; only a human approver decides, once', async () => {
    const created = await call(api.app, 'POST', '/v1/artifacts', {
      key: a.agent.key,
      body: { taskId, type: 'diff', path: 'login.diff', content: '+form', contentType: 'text/x-diff' },
    });
    expect(created.statusCode).toBe(201);
    const artifact = json<Row & { sizeBytes: number }>(created);
    expect(artifact).toMatchObject({ approvalStatus: 'none', sizeBytes: 5 });

    const requested = await call(api.app, 'POST', '/v1/approvals', {
      key: a.agent.key,
      body: { taskId, title: 'Merge?', artifactIds: [artifact.id], resumeState: { step: 'merge' } },
    });
    expect(requested.statusCode).toBe(201);
    const approval = json<Row>(requested);
    expect(approval).toMatchObject({ status: 'pending', resumeState: { step: 'merge' } });
    expect(await taskStatus(taskId)).toBe('in_review');
    const again = await call(api.app, 'POST', '/v1/approvals', {
      key: a.agent.key,
      body: { taskId, title: 'Again' },
    });
    expect(json(again)).toMatchObject({ status: 409, type: 'approval_pending' });

    const inbox = json<{ items: Row[] }>(
      await call(api.app, 'GET', `/v1/approvals?status=pending&projectId=${projectId}`, { key: owner }),
    );
    expect(inbox.items.map((item) => item.id)).toEqual([approval.id]);

    const url = `/v1/approvals/${approval.id}/decision`;
    const byAgent = await call(api.app, 'POST', url, { key: a.agent.key, body: { decision: 'approved' } });
    expect(json(byAgent)).toMatchObject({ status: 403, type: 'approver_required' });
    const decided = await call(api.app, 'POST', url, { key: owner, body: { decision: 'approved' } });
    expect(decided.statusCode).toBe(200);
    expect(json<Row>(decided)).toMatchObject({ status: 'approved', decidedBy: a.owner.id });
    expect(await taskStatus(taskId)).toBe('completed');
    const marked = await call(api.app, 'GET', `/v1/artifacts/${artifact.id}`, { key: a.agent.key });
    expect(json<Row>(marked).approvalStatus).toBe('approved');
    const twice = await call(api.app, 'POST', url, {
      key: owner,
      body: { decision: 'rejected', reason: 'No' },
    });
    expect(json(twice)).toMatchObject({ status: 409, type: 'approval_decided' });
    expect(json<Row>(await call(api.app, 'GET', `/v1/approvals/${approval.id}`, { key: owner })).status).toBe(
      'approved',
    );
  });

  it('answers 404 for an unknown approval and another tenant’s artifact, 422 for bad input (nothing written)', async () => {
    const unknown = await call(api.app, 'GET', `/v1/approvals/${randomUUID()}`, { key: a.agent.key });
    expect(unknown.statusCode).toBe(404);
    const theirs = await call(api.app, 'GET', `/v1/artifacts/${theirArtifact}`, { key: a.agent.key });
    expect(theirs.statusCode).toBe(404);
    const before = await ownerCount(h, 'approvals WHERE tenant_id = $1', [a.tenant.id]);
    const bad = await call(api.app, 'POST', '/v1/approvals', {
      key: a.agent.key,
      body: { taskId, title: '' },
    });
    expect(bad.statusCode).toBe(422);
    const badArtifact = await call(api.app, 'POST', '/v1/artifacts', {
      key: a.agent.key,
      body: { taskId, type: 'binary', path: 'x' },
    });
    expect(badArtifact.statusCode).toBe(422);
    expect(await ownerCount(h, 'approvals WHERE tenant_id = $1', [a.tenant.id])).toBe(before);
    const listed = json<{ items: Row[] }>(
      await call(api.app, 'GET', `/v1/artifacts?taskId=${taskId}`, { key: a.agent.key }),
    );
    expect(listed.items).toHaveLength(1);
  });
});
