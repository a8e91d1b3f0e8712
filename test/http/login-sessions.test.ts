import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryCoordination } from '../../src/coordination/index.ts';
import type { Store } from '../../src/index.ts';
import { LOGIN_FAILURE_LIMIT, loginFailureKeys } from '../../src/tenancy/login-sessions.routes.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';
import { type ApiHarness, call, freshAddress, json, startApi, tenantWithAgent } from './api-fixtures.ts';

const PASSWORD = 'correct horse battery';

/** A tenant whose owner has a password. */
async function tenantWithMember(store: Store): Promise<TenantFixture & { email: string }> {
  const fixture = await createTenant(store);
  await store.asService({ actor: 'test-fixture' }, (svc) =>
    svc.users.setPassword(fixture.owner.id, PASSWORD),
  );
  return { ...fixture, email: fixture.owner.email };
}

/** A login from `remoteAddress`, by default one of its own (failures are counted per address). */
function login(
  app: FastifyInstance,
  body: { email: string; password: string; tenant: string },
  remoteAddress = freshAddress(),
) {
  return call(app, 'POST', '/v1/auth/login', { body, remoteAddress });
}

describeEachEngine('HTTP API: login sessions', (h) => {
  let api: ApiHarness;
  let a: TenantFixture & { email: string };
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithMember(h.store);
  });
  afterAll(() => api?.close());

  const signIn = async (member = a) => {
    const response = await login(api.app, {
      email: member.email,
      password: PASSWORD,
      tenant: member.tenant.slug,
    });
    expect(response.statusCode).toBe(201);
    return json<{ token: string }>(response).token;
  };

  it('logs a member in; the token is a Bearer credential and writes as that user', async () => {
    const response = await login(api.app, {
      email: a.email.toUpperCase(),
      password: PASSWORD,
      tenant: a.tenant.slug,
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json<{ token: string; expiresAt: string }>(response);
    expect(body).toEqual({
      token: expect.any(String),
      expiresAt: expect.any(String),
      user: { id: a.owner.id, email: a.email, name: a.owner.name },
      tenant: { id: a.tenant.id, slug: a.tenant.slug, name: a.tenant.name },
    });
    // The default TTL of a session: 24 hours from now.
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);

    const list = await call(api.app, 'GET', '/v1/projects', { key: body.token });
    expect(list.statusCode).toBe(200);
    const created = await call(api.app, 'POST', '/v1/projects', {
      key: body.token,
      body: { slug: 'by-member', name: 'By member' },
    });
    expect(created.statusCode).toBe(201);
    const [audit] = await h.asOwner((c) =>
      c.query<{ actor_type: string; actor_id: string }>(
        `SELECT actor_type, actor_id FROM audit_logs WHERE table_name = 'projects' AND row_id = $1 AND action = 'insert'`,
        [json(created).id],
      ),
    );
    expect(audit).toEqual({ actor_type: 'user', actor_id: a.owner.id });
    expect(json(await call(api.app, 'GET', '/v1/whoami', { key: body.token }))).toEqual({
      kind: 'user',
      tenantId: a.tenant.id,
      actor: { type: 'user', id: a.owner.id },
    });
  });

  it('tells an agent who it is', async () => {
    const b = await tenantWithAgent(h.store);
    const response = await call(api.app, 'GET', '/v1/whoami', { key: b.agent.key });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      kind: 'agent',
      tenantId: b.tenant.id,
      actor: { type: 'agent', id: b.agent.agentId },
      credentialId: b.agent.credentialId,
    });
  });

  it('logs out one session, and refuses an API key with 403', async () => {
    const token = await signIn();
    const other = await signIn();
    const out = await call(api.app, 'POST', '/v1/auth/logout', { key: token });
    expect(out.statusCode).toBe(204);
    const after = await call(api.app, 'GET', '/v1/projects', { key: token });
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(after)).toMatchObject({ type: 'invalid_session' });
    expect((await call(api.app, 'GET', '/v1/projects', { key: other })).statusCode).toBe(200);

    const b = await tenantWithAgent(h.store);
    for (const path of ['/v1/auth/logout', '/v1/auth/logout-all']) {
      const refused = await call(api.app, 'POST', path, { key: b.agent.key });
      expect(refused.statusCode, path).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(json(refused)).toMatchObject({ type: 'permission_denied', status: 403 });
    }
    expect((await call(api.app, 'GET', '/v1/whoami', { key: b.agent.key })).statusCode).toBe(200);
  });

  it('logs out everywhere: every session of the member ends, nobody else’s', async () => {
    const member = await tenantWithMember(h.store);
    const first = await signIn(member);
    const second = await signIn(member);
    const bystander = await signIn();
    const out = await call(api.app, 'POST', '/v1/auth/logout-all', { key: first });
    expect(out.statusCode).toBe(200);
    expect(json(out)).toEqual({ ended: 2 });
    for (const token of [first, second])
      expect(json(await call(api.app, 'GET', '/v1/whoami', { key: token }))).toMatchObject({
        type: 'invalid_session',
        status: 401,
      });
    expect((await call(api.app, 'GET', '/v1/whoami', { key: bystander })).statusCode).toBe(200);
  });

  it('answers every kind of refused login with the same 401', async () => {
    const stranger = await tenantWithMember(h.store);
    const suspended = await tenantWithMember(h.store);
    await h.store.asService({ actor: 'test-fixture' }, (svc) =>
      svc.tenants.setStatus(suspended.tenant.id, 'suspended'),
    );
    const cases = {
      'unknown email': { email: `nobody@${a.tenant.slug}.test`, password: PASSWORD, tenant: a.tenant.slug },
      'wrong password': { email: a.email, password: 'not the password', tenant: a.tenant.slug },
      'not a member': { email: stranger.email, password: PASSWORD, tenant: a.tenant.slug },
      'unknown tenant': { email: a.email, password: PASSWORD, tenant: 'no-such-tenant-anywhere' },
      'suspended tenant': { email: suspended.email, password: PASSWORD, tenant: suspended.tenant.slug },
    };
    const answers = [];
    for (const [what, body] of Object.entries(cases)) {
      const response = await login(api.app, body);
      expect(response.statusCode, what).toBe(401);
      expect(response.headers['content-type'], what).toMatch(/^application\/problem\+json/);
      expect(response.headers['www-authenticate'], what).toMatch(/^Bearer/);
      const { instance: _, ...problem } = json(response);
      answers.push(problem);
    }
    expect(answers[0]).toMatchObject({ type: 'invalid_credentials', status: 401 });
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    // The same member signs in where the login is right.
    expect(
      (await login(api.app, { ...cases['not a member'], tenant: stranger.tenant.slug })).statusCode,
    ).toBe(201);
  });

  it('refuses logins with 429, password unchecked, once an address or an email spent its failures', async () => {
    const member = await tenantWithMember(h.store);
    const right = { email: member.email, password: PASSWORD, tenant: member.tenant.slug };
    const failures = api.coordination.rateLimiter(LOGIN_FAILURE_LIMIT);
    // All but one failure of the email's budget spent (each real failure costs a password hash).
    const [, emailKey] = loginFailureKeys('unused', member.email);
    await failures.consume(emailKey!, LOGIN_FAILURE_LIMIT.limit - 1);
    expect((await login(api.app, right)).statusCode).toBe(201);
    expect((await login(api.app, { ...right, password: 'wrong password' })).statusCode).toBe(401);
    const limited = await login(api.app, right);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(json(limited)).toMatchObject({ type: 'rate_limited', status: 429 });

    // The same for a client address, with another email each time: that address is refused, no other.
    const address = freshAddress();
    const other = { email: a.email, password: PASSWORD, tenant: a.tenant.slug };
    const [addressKey] = loginFailureKeys(address, a.email);
    await failures.consume(addressKey!, LOGIN_FAILURE_LIMIT.limit - 1);
    expect((await login(api.app, other, address)).statusCode).toBe(201);
    const guess = { ...right, email: `guess@${member.tenant.slug}.test` };
    expect((await login(api.app, guess, address)).statusCode).toBe(401);
    expect((await login(api.app, other, address)).statusCode).toBe(429);
    expect((await login(api.app, other)).statusCode).toBe(201);
  });

  it('refuses a malformed login body with 422 naming the field', async () => {
    const response = await login(api.app, {
      email: 'not-an-email',
      password: PASSWORD,
      tenant: a.tenant.slug,
    });
    expect(response.statusCode).toBe(422);
    expect(json(response)).toMatchObject({ type: 'validation_failed', errors: [{ path: 'email' }] });
  });
});

describeEachEngine('HTTP API: login session expiry', (h) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(h.store, {
      coordination: createMemoryCoordination({ sessionTtlMs: 500 }),
      keyCacheMs: 200,
    });
  });
  afterAll(async () => {
    await api?.close();
    await api?.coordination.close();
  });

  it('moves a session’s expiry forward with each request, and ends it after the TTL of quiet', async () => {
    const member = await tenantWithMember(h.store);
    const response = await login(api.app, {
      email: member.email,
      password: PASSWORD,
      tenant: member.tenant.slug,
    });
    const { token, expiresAt } = json<{ token: string; expiresAt: string }>(response);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(500);
    // Three requests 300 ms apart: 900 ms in all, longer than the TTL, each within the TTL of the last.
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      expect((await call(api.app, 'GET', '/v1/whoami', { key: token })).statusCode, `request ${i}`).toBe(200);
    }
    await sleep(600);
    const expired = await call(api.app, 'GET', '/v1/whoami', { key: token });
    expect(expired.statusCode).toBe(401);
    expect(json(expired)).toMatchObject({ type: 'invalid_session' });
  });
});

describeEachEngine('HTTP API: a removed member’s session', (h) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(h.store, { keyCacheMs: 200 });
  });
  afterAll(() => api?.close());

  it('is refused within the cache bound once the membership is gone, raw SQL included', async () => {
    const member = await tenantWithMember(h.store);
    const response = await login(api.app, {
      email: member.email,
      password: PASSWORD,
      tenant: member.tenant.slug,
    });
    const { token } = json<{ token: string }>(response);
    expect((await call(api.app, 'GET', '/v1/whoami', { key: token })).statusCode).toBe(200);
    await h.asOwner((c) =>
      c.query('DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
        member.tenant.id,
        member.owner.id,
      ]),
    );
    await sleep(250);
    const refused = await call(api.app, 'GET', '/v1/projects', { key: token });
    expect(refused.statusCode).toBe(401);
    expect(json(refused)).toMatchObject({ type: 'invalid_session' });
    // The session is ended, not only refused: a restored membership does not revive it.
    expect(await api.coordination.sessions.get(token)).toBeUndefined();
  });
});
