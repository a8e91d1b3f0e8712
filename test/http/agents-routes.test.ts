import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount, uniqueSlug } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: agents', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  const newAgent = (code = uniqueSlug('ag')) => ({ code, name: code, type: 'tester', roleTitle: 'QA' });
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
  });
  afterAll(() => api?.close());

  it('creates, reads and pages agents as the key’s agent, which the audit row names', async () => {
    const created = await call(api.app, 'POST', '/v1/agents', {
      key: a.agent.key,
      body: newAgent('qa-one'),
      headers: { 'x-request-id': 'req-agents-1' },
    });
    expect(created.statusCode).toBe(201);
    const agent = json(created);
    expect(agent).toMatchObject({
      code: 'qa-one',
      level: 'organization',
      status: 'active',
      trustScore: '50.00',
    });
    const [audit] = await h.asOwner((c) =>
      c.query<{ actor_type: string; actor_id: string; request_id: string }>(
        `SELECT actor_type, actor_id, request_context->>'requestId' AS request_id
           FROM audit_logs WHERE table_name = 'agents' AND row_id = $1 AND action = 'insert'`,
        [agent.id],
      ),
    );
    expect(audit).toEqual({ actor_type: 'agent', actor_id: a.agent.agentId, request_id: 'req-agents-1' });

    const byCode = await call(api.app, 'GET', '/v1/agents/by-code/qa-one', { key: a.agent.key });
    expect(json(byCode)).toEqual(agent);
    const byId = await call(api.app, 'GET', `/v1/agents/${agent.id}`, { key: a.agent.key });
    expect(byId.body).toBe(byCode.body);
    await call(api.app, 'POST', '/v1/agents', { key: a.agent.key, body: newAgent('qa-two') });
    const first = json(await call(api.app, 'GET', '/v1/agents?type=tester&limit=1', { key: a.agent.key }));
    expect(first).toMatchObject({ items: [{ code: 'qa-one' }], nextCursor: expect.any(String) });
    const second = json(
      await call(api.app, 'GET', `/v1/agents?type=tester&limit=1&cursor=${first.nextCursor}`, {
        key: a.agent.key,
      }),
    );
    expect(second).toMatchObject({ items: [{ code: 'qa-two' }], nextCursor: null });
  });

  it('answers another tenant’s agent with 404 and a bad body with 422 naming the field', async () => {
    const theirs = b.agent.agentId;
    for (const [method, url, body] of [
      ['GET', `/v1/agents/${theirs}`, undefined],
      ['PATCH', `/v1/agents/${theirs}`, { name: 'Mine now' }],
      ['POST', `/v1/agents/${theirs}/status`, { status: 'inactive' }],
      ['DELETE', `/v1/agents/${theirs}`, undefined],
    ] as const) {
      const response = await call(api.app, method, url, { key: a.agent.key, body });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const [row] = await h.asOwner((c) =>
      c.query<{ name: string; status: string }>('SELECT name, status FROM agents WHERE id = $1', [theirs]),
    );
    expect(row).toMatchObject({ status: 'active' });
    expect(row?.name).not.toBe('Mine now');

    const bad = await call(api.app, 'POST', '/v1/agents', {
      key: a.agent.key,
      body: { ...newAgent('qa-bad'), type: 'wizard', capabilities: ['Upper Case'] },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['capabilities.0', 'type']);
    expect(await ownerCount(h, "agents WHERE code = 'qa-bad'")).toBe(0);
    const badStatus = await call(api.app, 'POST', `/v1/agents/${a.agent.agentId}/status`, {
      key: a.agent.key,
      body: { status: 'retired' },
    });
    expect(json(badStatus)).toMatchObject({ status: 422, errors: [{ path: 'status' }] });
  });

  it('refuses a PATCH whose If-Match is stale with 412 and writes nothing', async () => {
    const agent = json(await call(api.app, 'POST', '/v1/agents', { key: a.agent.key, body: newAgent() }));
    const url = `/v1/agents/${agent.id}`;
    const etag = (await call(api.app, 'GET', url, { key: a.agent.key })).headers.etag as string;
    const changed = await call(api.app, 'PATCH', url, {
      key: a.agent.key,
      body: { roleTitle: 'Lead QA' },
      headers: { 'if-match': etag },
    });
    expect(changed.statusCode).toBe(200);
    expect(json(changed)).toMatchObject({ roleTitle: 'Lead QA' });
    expect(changed.headers.etag).not.toBe(etag);
    const stale = await call(api.app, 'PATCH', url, {
      key: a.agent.key,
      body: { roleTitle: 'Stale' },
      headers: { 'if-match': etag },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ type: 'precondition_failed', status: 412 });
    expect(await ownerCount(h, `agents WHERE id = $1 AND role_title = 'Lead QA'`, [agent.id])).toBe(1);
  });

  it('terminates an agent through the API: its key’s very next request is refused with 401', async () => {
    const worker = await agentWithKey(h.store, a.tenant.id);
    // Warms the server's key cache: the refusal must not wait for it to expire.
    expect((await call(api.app, 'GET', '/v1/agents?limit=1', { key: worker.key })).statusCode).toBe(200);
    const terminated = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/status`, {
      key: a.agent.key,
      body: { status: 'terminated' },
    });
    expect(json(terminated)).toMatchObject({ status: 'terminated', terminatedAt: expect.any(String) });
    const refused = await call(api.app, 'GET', '/v1/agents?limit=1', { key: worker.key });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    // The verification is still cached; the unit's set-up finds the agent terminated.
    expect(json(refused)).toMatchObject({ type: 'actor_unavailable', status: 401 });
    const again = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/status`, {
      key: a.agent.key,
      body: { status: 'active' },
    });
    expect(json(again)).toMatchObject({ status: 409, type: 'invalid_transition' });

    const deleted = await call(api.app, 'DELETE', `/v1/agents/${worker.agentId}`, { key: a.agent.key });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await call(api.app, 'GET', `/v1/agents/${worker.agentId}`, { key: a.agent.key })).statusCode,
    ).toBe(404);
  });
});
