import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount, uniqueSlug } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, ownerToken, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: members', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  /** The owner's login session token, a Bearer credential. */
  let owner: string;
  const members: string[] = [];
  const roleOf = async (tenantId: string, userId: string) => {
    const [row] = await h.asOwner((c) =>
      c.query<{ role: string }>('SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
        tenantId,
        userId,
      ]),
    );
    return row?.role;
  };
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    owner = await ownerToken(api, a);
    // One transaction each: members added together share created_at, and then list in id order.
    for (let i = 0; i < 2; i++)
      await h.store.asService({ actor: 'test' }, async (svc) => {
        const user = await svc.users.create({ email: `${uniqueSlug('m')}@example.test`, name: 'Member' });
        await svc.memberships.create(a.tenant.id, { userId: user.id, role: 'member' });
        members.push(user.id);
      });
  });
  afterAll(() => api?.close());

  it('lists members with their email and name, page by page', async () => {
    const first = await call(api.app, 'GET', '/v1/members?limit=2', { key: a.agent.key });
    expect(first.statusCode).toBe(200);
    const page = json<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>(first);
    expect(page.items.map((m) => m.userId)).toEqual([a.owner.id, members[0]]);
    expect(page.items[0]).toMatchObject({ role: 'owner', email: a.owner.email, name: a.owner.name });
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = json(
      await call(api.app, 'GET', `/v1/members?limit=2&cursor=${page.nextCursor}`, { key: a.agent.key }),
    );
    expect(second).toMatchObject({ items: [{ userId: members[1] }], nextCursor: null });
    const bad = await call(api.app, 'GET', '/v1/members?limit=0', { key: a.agent.key });
    expect(bad.statusCode).toBe(422);
    expect(json(bad)).toMatchObject({ errors: [{ path: 'limit' }] });
  });

  it('changes a role as the owner’s login session, and names a bad role in a 422', async () => {
    const changed = await call(api.app, 'PATCH', `/v1/members/${members[0]}`, {
      key: owner,
      body: { role: 'admin' },
    });
    expect(changed.statusCode).toBe(200);
    expect(json(changed)).toMatchObject({ userId: members[0], role: 'admin', tenantId: a.tenant.id });
    expect(await roleOf(a.tenant.id, members[0]!)).toBe('admin');
    const bad = await call(api.app, 'PATCH', `/v1/members/${members[0]}`, {
      key: owner,
      body: { role: 'boss' },
    });
    expect(bad.statusCode).toBe(422);
    expect(json(bad)).toMatchObject({ errors: [{ path: 'role' }] });
    expect(await roleOf(a.tenant.id, members[0]!)).toBe('admin');
  });

  it('refuses an agent key changing or removing a member with 403: governing is for owners and admins', async () => {
    const before = await roleOf(a.tenant.id, members[0]!);
    for (const method of ['PATCH', 'DELETE'] as const) {
      const refused = await call(api.app, method, `/v1/members/${members[0]}`, {
        key: a.agent.key,
        ...(method === 'PATCH' ? { body: { role: 'owner' } } : {}),
      });
      expect(refused.statusCode).toBe(403);
      expect(json(refused)).toMatchObject({ type: 'permission_denied' });
    }
    expect(await roleOf(a.tenant.id, members[0]!)).toBe(before);
  });

  it('answers 404 for another tenant’s member, and changes nothing there', async () => {
    for (const method of ['PATCH', 'DELETE'] as const) {
      const response = await call(api.app, method, `/v1/members/${b.owner.id}`, {
        key: a.agent.key,
        ...(method === 'PATCH' ? { body: { role: 'member' } } : {}),
      });
      expect(response.statusCode).toBe(404);
      expect(json(response)).toMatchObject({ type: 'not_found' });
    }
    expect(await roleOf(b.tenant.id, b.owner.id)).toBe('owner');
  });

  it('removes a member (the user stays), then answers 404 for them', async () => {
    const removed = await call(api.app, 'DELETE', `/v1/members/${members[1]}`, { key: owner });
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    expect(await roleOf(a.tenant.id, members[1]!)).toBeUndefined();
    expect(await ownerCount(h, 'users WHERE id = $1 AND deleted_at IS NULL', [members[1]])).toBe(1);
    const again = await call(api.app, 'DELETE', `/v1/members/${members[1]}`, { key: owner });
    expect(again.statusCode).toBe(404);
  });
});
