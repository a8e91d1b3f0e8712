import { afterAll, beforeAll, expect, it } from 'vitest';
import { rowSchema } from '../../src/http/openapi.ts';
import { users } from '../../src/tenancy/users.schema.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: users', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    // A stored hash the response must not carry.
    await h.store.asService({ actor: 'test' }, (svc) => svc.users.setPassword(a.owner.id, 'correct horse'));
  });
  afterAll(() => api?.close());

  it('reads a member’s profile with exactly the documented fields, never the password hash', async () => {
    const response = await call(api.app, 'GET', `/v1/users/${a.owner.id}`, { key: a.agent.key });
    expect(response.statusCode).toBe(200);
    const user = json(response);
    expect(user).toMatchObject({ id: a.owner.id, email: a.owner.email, name: a.owner.name });
    expect(Object.keys(user).sort()).toEqual(
      [...(rowSchema(users, ['passwordHash']).required as string[])].sort(),
    );
    expect(response.body).not.toMatch(/password|scrypt/i);
  });

  it('answers 404 for a user of another tenant and 422 naming a malformed id', async () => {
    const other = await call(api.app, 'GET', `/v1/users/${b.owner.id}`, { key: a.agent.key });
    expect(other.statusCode).toBe(404);
    expect(json(other)).toMatchObject({ type: 'not_found', status: 404 });
    const malformed = await call(api.app, 'GET', '/v1/users/not-a-uuid', { key: a.agent.key });
    expect(malformed.statusCode).toBe(422);
    expect(json(malformed)).toMatchObject({ errors: [{ path: 'userId' }] });
  });
});
