import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: conventions', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
  });
  afterAll(() => api?.close());

  it('creates, reads and pages projects as the key agent', async () => {
    const created = await call(api.app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'web', name: 'Web' },
    });
    expect(created.statusCode).toBe(201);
    const project = json(created);
    expect(project).toMatchObject({ slug: 'web', name: 'Web', tenantId: a.tenant.id });
    const read = await call(api.app, 'GET', `/v1/projects/${project.id}`, { key: a.agent.key });
    expect(read.statusCode).toBe(200);
    expect(read.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const page = json(await call(api.app, 'GET', '/v1/projects?limit=1', { key: a.agent.key }));
    expect(page).toMatchObject({ items: [{ slug: 'web' }], nextCursor: null });
  });

  it('answers another tenant’s id with 404, and no credential with 401, as problem+json', async () => {
    const created = json(
      await call(api.app, 'POST', '/v1/projects', { key: b.agent.key, body: { slug: 'b1', name: 'B' } }),
    );
    const read = await call(api.app, 'GET', `/v1/projects/${created.id}`, { key: a.agent.key });
    expect(read.statusCode).toBe(404);
    expect(read.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(read)).toMatchObject({ type: 'not_found', status: 404 });
    const anonymous = await call(api.app, 'POST', '/v1/projects', { body: { slug: 'x', name: 'X' } });
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous)).toMatchObject({ type: 'missing_credentials' });
    expect(await ownerCount(h, "projects WHERE slug = 'x'")).toBe(0);
  });

  it('names the bad field of a body in a 422', async () => {
    const response = await call(api.app, 'POST', '/v1/projects', {
      key: a.agent.key,
      body: { slug: 'Not A Slug', name: 'x' },
    });
    expect(response.statusCode).toBe(422);
    expect(json(response)).toMatchObject({ type: 'validation_failed', errors: [{ path: 'slug' }] });
  });

  it('replays an idempotent POST and writes once', async () => {
    const send = () =>
      call(api.app, 'POST', '/v1/projects', {
        key: a.agent.key,
        body: { slug: 'idem', name: 'Idem' },
        headers: { 'idempotency-key': 'k-1' },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await ownerCount(h, "projects WHERE slug = 'idem'")).toBe(1);
  });
});
