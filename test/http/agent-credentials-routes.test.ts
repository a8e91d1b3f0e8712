import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import {
  type ApiHarness,
  agentWithKey,
  call,
  json,
  ownerToken,
  startApi,
  tenantWithAgent,
} from './api-fixtures.ts';

const KEY = /^afk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;

interface Issued {
  key: string;
  credential: Record<string, unknown> & { id: string; keyPrefix: string };
}

describeEachEngine('HTTP API: agent keys', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let owner: string;
  const works = async (key: string) => (await call(api.app, 'GET', '/v1/agents?limit=1', { key })).statusCode;
  const keysOf = (agentId: string) => ownerCount(h, 'agent_credentials WHERE agent_id = $1', [agentId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    owner = await ownerToken(api, a);
  });
  afterAll(() => api?.close());

  it('issues a key shown once, never cached nor replayable, that authenticates as its agent', async () => {
    const issued = await call(api.app, 'POST', `/v1/agents/${a.agent.agentId}/keys`, { key: a.agent.key });
    expect(issued.statusCode).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const body = json<Issued>(issued);
    expect(body.key).toMatch(KEY);
    expect(body.key).toContain(body.credential.keyPrefix);
    expect(body.credential).toMatchObject({ agentId: a.agent.agentId, revokedAt: null });
    expect(body.credential).not.toHaveProperty('secretHash');
    expect(await works(body.key)).toBe(200);

    const read = await call(api.app, 'GET', `/v1/agent-keys/${body.credential.id}`, { key: body.key });
    const { updatedAt: _, ...record } = body.credential;
    expect(json(read)).toMatchObject({ ...record, lastUsedAt: expect.any(String) });
    expect(json(read)).not.toHaveProperty('secretHash');
    const before = await keysOf(a.agent.agentId);
    const replayable = await call(api.app, 'POST', `/v1/agents/${a.agent.agentId}/keys`, {
      key: a.agent.key,
      headers: { 'idempotency-key': 'issue-1' },
    });
    expect(json(replayable)).toMatchObject({ status: 422, errors: [{ path: 'Idempotency-Key' }] });
    expect(await keysOf(a.agent.agentId)).toBe(before);
    expect(await ownerCount(h, "idempotency_keys WHERE key = 'issue-1'")).toBe(0);
  });

  it('revokes a key through the API: its very next request is refused with 401 key_revoked', async () => {
    const worker = await agentWithKey(h.store, a.tenant.id);
    expect(await works(worker.key)).toBe(200);
    const prefix = worker.key.slice(4, 20);
    const revoked = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/keys/revoke`, {
      key: owner,
      body: { keyPrefix: prefix },
    });
    expect(revoked.statusCode).toBe(200);
    expect(json(revoked)).toMatchObject({
      revoked: [{ id: worker.credentialId, revokedAt: expect.any(String) }],
    });
    const refused = await call(api.app, 'GET', '/v1/agents?limit=1', { key: worker.key });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(refused)).toMatchObject({ type: 'key_revoked' });
  });

  it('rotates with no grace: the old key is refused at once, the new one works', async () => {
    const worker = await agentWithKey(h.store, a.tenant.id);
    expect(await works(worker.key)).toBe(200);
    // The agent rotates its own key, with it.
    const rotated = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/keys/rotate`, {
      key: worker.key,
      body: { graceSeconds: 0 },
    });
    expect(rotated.statusCode).toBe(201);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const body = json<Issued & { replaced: { id: string }[] }>(rotated);
    expect(body.replaced.map((row) => row.id)).toEqual([worker.credentialId]);
    const refused = await call(api.app, 'GET', '/v1/agents?limit=1', { key: worker.key });
    expect(json(refused)).toMatchObject({ status: 401, type: 'key_expired' });
    expect(await works(body.key)).toBe(200);
  });

  it('lists and reads keys page by page; an agent sees and changes only its own; other tenants’ are 404', async () => {
    const worker = await agentWithKey(h.store, a.tenant.id);
    await call(api.app, 'POST', `/v1/agents/${worker.agentId}/keys`, { key: owner });
    const first = json(
      await call(api.app, 'GET', `/v1/agent-keys?agentId=${worker.agentId}&limit=1`, { key: owner }),
    );
    expect(first).toMatchObject({ items: [{ agentId: worker.agentId }], nextCursor: expect.any(String) });
    const second = json(
      await call(
        api.app,
        'GET',
        `/v1/agent-keys?agentId=${worker.agentId}&limit=1&cursor=${first.nextCursor}`,
        {
          key: owner,
        },
      ),
    );
    expect(second).toMatchObject({ items: [{ agentId: worker.agentId }], nextCursor: null });
    expect(JSON.stringify([first, second])).not.toMatch(/secretHash|secret_hash/);

    const own = json<{ items: { agentId: string }[] }>(
      await call(api.app, 'GET', '/v1/agent-keys', { key: worker.key }),
    );
    expect(new Set(own.items.map((row) => row.agentId))).toEqual(new Set([worker.agentId]));
    const before = await keysOf(a.agent.agentId);
    const forOther = await call(api.app, 'POST', `/v1/agents/${a.agent.agentId}/keys`, { key: worker.key });
    expect(forOther.statusCode).toBe(403);
    expect(forOther.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await keysOf(a.agent.agentId)).toBe(before);

    const theirs = await call(api.app, 'GET', `/v1/agent-keys/${b.agent.credentialId}`, { key: owner });
    expect(theirs.statusCode).toBe(404);
    const issueTheirs = await call(api.app, 'POST', `/v1/agents/${b.agent.agentId}/keys`, { key: owner });
    expect(json(issueTheirs)).toMatchObject({ status: 404, type: 'not_found' });
    const revokeTheirs = await call(api.app, 'POST', `/v1/agents/${b.agent.agentId}/keys/revoke`, {
      key: owner,
    });
    expect(revokeTheirs.statusCode).toBe(404);
    expect(await works(b.agent.key)).toBe(200);

    const bad = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/keys/rotate`, {
      key: owner,
      body: { graceSeconds: -1, expiresAt: 'next week', keyPrefix: 'XYZ' },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['expiresAt', 'graceSeconds', 'keyPrefix']);
    const past = await call(api.app, 'POST', `/v1/agents/${worker.agentId}/keys`, {
      key: owner,
      body: { expiresAt: '2001-01-01T00:00:00Z' },
    });
    expect(json(past)).toMatchObject({ status: 422, errors: [{ path: 'expiresAt' }] });
    expect(await keysOf(worker.agentId)).toBe(2);
  });
});
