import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface AuditPage {
  items: Array<Record<string, unknown>>;
  nextCursor: string | null;
}

describeEachEngine('HTTP API: audit logs', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let projectId: string;
  let otherProjectId: string;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    const created = await call(api.app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'audited', name: 'Audited' },
      headers: { 'x-request-id': 'req-create' },
    });
    projectId = json(created).id as string;
    await call(api.app, 'PATCH', `/v1/projects/${projectId}`, {
      key: a.agent.key,
      body: { name: 'Renamed' },
      headers: { 'x-request-id': 'req-rename' },
    });
    otherProjectId = (
      await h.store.withTenant(b.context, (tx) => tx.projects.create({ slug: 'o', name: 'O' }))
    ).id;
  });
  afterAll(() => api?.close());

  it('lists a row’s trail newest first, with the actor and the request, page by page', async () => {
    const base = `/v1/audit-logs?tableName=projects&rowId=${projectId}&limit=1`;
    const first = await call(api.app, 'GET', base, { key: a.agent.key });
    expect(first.statusCode).toBe(200);
    const page = json<AuditPage>(first);
    expect(page.items).toEqual([
      expect.objectContaining({
        action: 'update',
        actorType: 'agent',
        actorId: a.agent.agentId,
        requestContext: expect.objectContaining({ requestId: 'req-rename' }),
      }),
    ]);
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = json<AuditPage>(
      await call(api.app, 'GET', `${base}&cursor=${page.nextCursor}`, { key: a.agent.key }),
    );
    expect(second.items).toEqual([
      expect.objectContaining({
        action: 'insert',
        requestContext: expect.objectContaining({ requestId: 'req-create' }),
      }),
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it('shows nothing of another tenant’s trail', async () => {
    const response = await call(api.app, 'GET', `/v1/audit-logs?rowId=${otherProjectId}`, {
      key: a.agent.key,
    });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ items: [], nextCursor: null });
    const all = json<AuditPage>(
      await call(api.app, 'GET', '/v1/audit-logs?limit=1000', { key: a.agent.key }),
    );
    expect(all.items.length).toBeGreaterThan(0);
    expect(all.items.every((row) => row.tenantId === a.tenant.id)).toBe(true);
  });

  it('names a bad query parameter in a 422', async () => {
    for (const [query, field] of [
      ['limit=abc', 'limit'],
      ['limit=1001', 'limit'],
      ['tableName=', 'tableName'],
    ] as const) {
      const response = await call(api.app, 'GET', `/v1/audit-logs?${query}`, { key: a.agent.key });
      expect(response.statusCode, query).toBe(422);
      expect(json(response)).toMatchObject({ type: 'validation_failed', errors: [{ path: field }] });
    }
  });
});
