import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant } from '../harness/fixtures.ts';
import {
  type AgentWithKey,
  type ApiHarness,
  agentWithKey,
  call,
  json,
  ownerToken,
  startApi,
} from './api-fixtures.ts';

describeEachEngine('HTTP API: the caller’s tenant', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof createTenant>> & { agent: AgentWithKey };
  let b: Awaited<ReturnType<typeof createTenant>>;
  const stored = (tenantId: string) =>
    h.store.asService({ actor: 'test' }, (svc) => svc.tenants.get(tenantId));
  beforeAll(async () => {
    api = await startApi(h.store);
    const tenant = await createTenant(h.store, { quotas: { api_calls: 5 } });
    a = { ...tenant, agent: await agentWithKey(h.store, tenant.tenant.id) };
    b = await createTenant(h.store);
  });
  afterAll(() => api?.close());
  // Settings are for the tenant's owners and admins (migration 11): the owner's login session.
  const owner = () => ownerToken(api, a);

  it('reads the key’s own tenant, and nothing names another', async () => {
    const response = await call(api.app, 'GET', '/v1/tenant', { key: a.agent.key });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(json(response)).toMatchObject({ id: a.tenant.id, slug: a.tenant.slug, quotas: { api_calls: 5 } });
  });

  it('merges a settings patch for an owner, in their own tenant only; an agent key gets 403', async () => {
    const byAgent = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: a.agent.key,
      body: { theme: 'agent' },
    });
    expect(byAgent.statusCode).toBe(403);
    expect(json(byAgent)).toMatchObject({ type: 'permission_denied' });
    expect((await stored(a.tenant.id)).settings).toEqual({});
    const patched = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: await owner(),
      body: { theme: 'dark', locale: 'fr' },
    });
    expect(patched.statusCode).toBe(200);
    expect(json(patched).settings).toEqual({ theme: 'dark', locale: 'fr' });
    const again = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: await owner(),
      body: { locale: 'de' },
    });
    expect(again.statusCode).toBe(200);
    expect((await stored(a.tenant.id)).settings).toEqual({ theme: 'dark', locale: 'de' });
    expect((await stored(b.tenant.id)).settings).toEqual({});
  });

  it('refuses a settings patch that is not storable, naming the key', async () => {
    const response = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: a.agent.key,
      body: { note: 'a\u0000b' },
    });
    expect(response.statusCode).toBe(422);
    expect(json(response)).toMatchObject({ type: 'validation_failed', errors: [{ path: 'note' }] });
    expect((await stored(a.tenant.id)).settings).not.toHaveProperty('note');
  });

  it('writes settings under If-Match only while the tenant is the version read', async () => {
    const read = await call(api.app, 'GET', '/v1/tenant', { key: a.agent.key });
    const etag = read.headers.etag as string;
    // Any change of the tenant since the read makes its ETag stale, a usage increment included.
    await call(api.app, 'POST', '/v1/tenant/usage', { key: a.agent.key, body: { counter: 'seen', by: 1 } });
    const stale = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: await owner(),
      body: { theme: 'stale' },
      headers: { 'if-match': etag },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ type: 'precondition_failed', status: 412 });
    expect((await stored(a.tenant.id)).settings.theme).toBe('dark');
    const current = (await call(api.app, 'GET', '/v1/tenant', { key: a.agent.key })).headers.etag as string;
    const fresh = await call(api.app, 'PATCH', '/v1/tenant/settings', {
      key: await owner(),
      body: { theme: 'light' },
      headers: { 'if-match': current },
    });
    expect(fresh.statusCode).toBe(200);
    expect((await stored(a.tenant.id)).settings.theme).toBe('light');
  });

  it('adds usage up to the quota, then answers 403 and changes nothing', async () => {
    const add = (body: unknown) => call(api.app, 'POST', '/v1/tenant/usage', { key: a.agent.key, body });
    const first = await add({ counter: 'api_calls', by: 3 });
    expect(first.statusCode).toBe(200);
    expect(json(first)).toEqual({ counter: 'api_calls', value: 3 });
    expect(json(await add({ counter: 'api_calls', by: 2 }))).toEqual({ counter: 'api_calls', value: 5 });
    const over = await add({ counter: 'api_calls', by: 1 });
    expect(over.statusCode).toBe(403);
    expect(json(over)).toMatchObject({ type: 'quota_exceeded', status: 403 });
    expect((await stored(a.tenant.id)).usage.api_calls).toBe(5);
    for (const [body, field] of [
      [{ counter: 'projects', by: 1 }, 'counter'],
      [{ counter: 'api_calls', by: 0 }, 'by'],
    ] as const) {
      const bad = await add(body);
      expect(bad.statusCode).toBe(422);
      expect(json(bad)).toMatchObject({ errors: [{ path: field }] });
    }
    expect((await stored(b.tenant.id)).usage).toEqual({});
  });
});
