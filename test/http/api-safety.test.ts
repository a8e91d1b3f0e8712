import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tenantRoute } from '../../src/http/route.ts';
import { apiRoutes } from '../../src/http/routes.ts';
import type { ApiServerOptions } from '../../src/http/server.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

type Fixture = Awaited<ReturnType<typeof tenantWithAgent>>;
const PROBLEM = /^application\/problem\+json/;

/** Pino's lines, as written to the server's log stream. */
function logCapture() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (line: string) => void lines.push(line) },
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describeEachEngine('HTTP API: limits and safety', (h) => {
  let a: Fixture;
  const servers: ApiHarness[] = [];
  /** A server of its own for one test, closed with the suite. */
  const serve = async (options: Partial<Omit<ApiServerOptions, 'store'>> = {}) => {
    const api = await startApi(h.store, options);
    servers.push(api);
    return api.app;
  };
  beforeAll(async () => {
    a = await tenantWithAgent(h.store);
  });
  afterAll(() => Promise.all(servers.map((api) => api.close())));

  it('rate limits a credential with RateLimit-* headers, 429 and Retry-After, then lets it through again', async () => {
    const app = await serve({ rateLimit: { limit: 3, windowMs: 1000 } });
    // whoami reads no table once the key is verified (cached): the four requests spend their units
    // well within the 333 ms the limiter takes to give one back.
    for (const remaining of [2, 1, 0]) {
      const response = await call(app, 'GET', '/v1/whoami', { key: a.agent.key });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      expect(response.headers['ratelimit-remaining']).toBe(String(remaining));
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(0);
    }
    const limited = await call(app, 'GET', '/v1/whoami', { key: a.agent.key });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(PROBLEM);
    expect(json(limited)).toMatchObject({ type: 'rate_limited', status: 429 });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // Another credential has a budget of its own.
    const other = await tenantWithAgent(h.store);
    expect((await call(app, 'GET', '/v1/whoami', { key: other.agent.key })).statusCode).toBe(200);
    await sleep(retryAfter * 1000);
    expect((await call(app, 'GET', '/v1/whoami', { key: a.agent.key })).statusCode).toBe(200);
  });

  it('answers a body over the limit with 413, bad JSON with 400 and an unknown route with 404, as problem+json', async () => {
    const app = await serve({ bodyLimit: 1024 });
    const large = await call(app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'too-large', name: 'x'.repeat(2000) },
    });
    expect(large.statusCode).toBe(413);
    expect(large.headers['content-type']).toMatch(PROBLEM);
    expect(json(large)).toMatchObject({ type: 'payload_too_large', status: 413 });
    const broken = await call(app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: '{"slug": "broken",',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toMatch(PROBLEM);
    expect(json(broken)).toMatchObject({ type: 'invalid_json', status: 400 });
    const unknown = await call(app, 'GET', '/v1/no-such-thing', { key: a.agent.key });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(PROBLEM);
    expect(json(unknown)).toMatchObject({ type: 'route_not_found', status: 404 });
    expect(await ownerCount(h, "projects WHERE slug IN ('too-large', 'broken')")).toBe(0);
  });

  it('echoes a valid X-Request-Id and writes it into the audit row with the client address and user agent', async () => {
    const app = await serve();
    const requestId = 'trace-42.abc:x@y_z';
    const created = await call(app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'traced', name: 'Traced' },
      headers: { 'x-request-id': requestId, 'user-agent': 'agentflow-test/1.0' },
      remoteAddress: '192.0.2.7',
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['x-request-id']).toBe(requestId);
    const [audit] = await h.asOwner((c) =>
      c.query<{ request_context: unknown }>(
        `SELECT request_context FROM audit_logs WHERE table_name = 'projects' AND row_id = $1 AND action = 'insert'`,
        [json(created).id],
      ),
    );
    expect(audit?.request_context).toEqual({
      requestId,
      clientAddress: '192.0.2.7',
      userAgent: 'agentflow-test/1.0',
    });

    for (const given of ['r'.repeat(129), 'bad id!', 'semi;colon', '']) {
      const response = await call(app, 'GET', '/v1/projects', {
        key: a.agent.key,
        headers: { 'x-request-id': given },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-request-id'], JSON.stringify(given)).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
  });

  it('answers a failed statement with a 500 that names no SQL, stack or value, and logs it under the request id', async () => {
    const logs = logCapture();
    const failing = tenantRoute({
      method: 'GET',
      path: '/test/failing-statement',
      operationId: 'test.failingStatement',
      covers: [],
      tag: 'test',
      summary: 'runs a statement that fails',
      handler: ({ tx }) =>
        tx.query('SELECT hidden_column FROM no_such_table_for_tests WHERE note = $1', ['param-value-7431']),
    });
    const app = await serve({
      routes: [...apiRoutes, failing],
      logger: { level: 'info', stream: logs.stream },
    });
    const response = await call(app, 'GET', '/test/failing-statement', {
      key: a.agent.key,
      headers: { 'x-request-id': 'failing-1' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(json(response)).toEqual({
      type: 'internal_error',
      title: 'Internal server error',
      status: 500,
      detail: expect.any(String),
      instance: 'failing-1',
    });
    for (const leak of [
      'SELECT',
      'no_such_table',
      'hidden_column',
      'param-value-7431',
      '42P01',
      '.ts:',
      '    at ',
    ])
      expect(response.body, leak).not.toContain(leak);
    const logged = logs.entries().find((entry) => entry.level === 50);
    expect(logged).toMatchObject({ reqId: 'failing-1', msg: 'request failed' });
  });

  it('never logs an API key, a session token or a password, even at trace level', async () => {
    const logs = logCapture();
    const app = await serve({ logger: { level: 'trace', stream: logs.stream } });
    const password = 'never-in-the-logs-8271';
    await h.store.asService({ actor: 'test-fixture' }, (svc) => svc.users.setPassword(a.owner.id, password));
    const login = await call(app, 'POST', '/v1/auth/login', {
      body: { email: a.owner.email, password, tenant: a.tenant.slug },
    });
    expect(login.statusCode).toBe(201);
    const token = json<{ token: string }>(login).token;
    const wrong = `${password}-wrong`;
    expect(
      (
        await call(app, 'POST', '/v1/auth/login', {
          body: { email: a.owner.email, password: wrong, tenant: a.tenant.slug },
        })
      ).statusCode,
    ).toBe(401);
    expect((await call(app, 'GET', '/v1/projects', { key: a.agent.key })).statusCode).toBe(200);
    expect((await call(app, 'GET', '/v1/whoami', { key: token })).statusCode).toBe(200);
    expect(
      (
        await call(app, 'POST', '/v1/projects', {
          key: a.agent.key,
          body: { slug: 'Bad Slug', name: 'x', password, key: a.agent.key },
        })
      ).statusCode,
    ).toBe(422);
    expect((await call(app, 'GET', '/v1/projects', { key: `${a.agent.key}x` })).statusCode).toBe(401);
    const text = logs.lines.join('');
    // The logs were written, at trace level, and name the requests.
    expect(logs.lines.length).toBeGreaterThan(10);
    expect(text).toContain('/v1/auth/login');
    const secret = a.agent.key.slice('afk_0123456789abcdef_'.length);
    for (const [what, value] of [
      ['the API key', a.agent.key],
      ["the key's secret", secret],
      ['the session token', token],
      ['the password', password],
    ])
      expect(text.includes(value!), what).toBe(false);
  });

  it('sends no CORS headers unless origins are configured, and then only to them', async () => {
    const preflight = (app: Awaited<ReturnType<typeof serve>>, origin: string) =>
      call(app, 'OPTIONS', '/v1/projects', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const closed = await serve();
    const refused = await preflight(closed, 'https://app.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const read = await call(closed, 'GET', '/v1/projects', {
      key: a.agent.key,
      headers: { origin: 'https://app.example' },
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();

    const open = await serve({ corsOrigins: ['https://app.example'] });
    const allowed = await preflight(open, 'https://app.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('POST');
    const other = await preflight(open, 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('trusts a verified key for at most keyCacheMs: a key revoked by SQL works that long, then 401', async () => {
    const b = await tenantWithAgent(h.store);
    const app = await serve({ keyCacheMs: 300 });
    const uses = () =>
      ownerCount(h, 'agent_credential_uses WHERE credential_id = $1', [b.agent.credentialId]);
    // The verification is cached between these two instants: trusted until 300 ms after it.
    const verifiedAfter = performance.now();
    expect((await call(app, 'GET', '/v1/whoami', { key: b.agent.key })).statusCode).toBe(200);
    const verifiedBefore = performance.now();
    const afterFirst = await uses();
    expect((await call(app, 'GET', '/v1/whoami', { key: b.agent.key })).statusCode).toBe(200);
    expect(await uses(), 'the second request verified the key again').toBe(afterFirst);

    await h.asOwner((c) =>
      c.query('UPDATE agent_credentials SET revoked_at = now() WHERE id = $1', [b.agent.credentialId]),
    );
    // Still trusted within the bound (when the machine got here in time to tell).
    if (performance.now() - verifiedAfter < 250)
      expect((await call(app, 'GET', '/v1/whoami', { key: b.agent.key })).statusCode).toBe(200);
    await sleep(Math.max(0, verifiedBefore + 310 - performance.now()));
    const refused = await call(app, 'GET', '/v1/whoami', { key: b.agent.key });
    expect(refused.statusCode).toBe(401);
    expect(json(refused)).toMatchObject({ type: 'key_revoked' });
  });
});
