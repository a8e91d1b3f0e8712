import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { ForbiddenError, type User } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createAgent, createTenant, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('tenant governance', (h) => {
  let f: TenantFixture;
  let agentId: string;
  let member: User;
  let admin: User;
  beforeAll(async () => {
    f = await createTenant(h.store);
    agentId = await createAgent(h.store, f.tenant.id);
    const join = (role: 'member' | 'admin') =>
      h.store.asService({ actor: 'test' }, async (svc) => {
        const user = await svc.users.create({
          email: `${role}-${randomUUID().slice(0, 8)}@x.test`,
          name: role,
        });
        await svc.memberships.create(f.tenant.id, { userId: user.id, role });
        return user;
      });
    member = await join('member');
    admin = await join('admin');
  });

  const as = (type: 'user' | 'agent', id: string) => ({ tenantId: f.tenant.id, actor: { type, id } });

  it('refuses an agent, a plain member and a stranger changing members or settings, raw SQL included', async () => {
    for (const context of [as('agent', agentId), as('user', member.id), as('user', randomUUID())]) {
      for (const attempt of [
        () => h.store.withTenant(context, (tx) => tx.memberships.update(f.owner.id, { role: 'member' })),
        () => h.store.withTenant(context, (tx) => tx.memberships.delete(f.owner.id)),
        () => h.store.withTenant(context, (tx) => tx.tenants.updateSettings({ theme: 'dark' })),
        () => h.store.withTenant(context, (tx) => tx.query("UPDATE tenants SET name = 'Taken over'")),
        () => h.store.withTenant(context, (tx) => tx.query("UPDATE memberships SET role = 'owner'")),
      ]) {
        const error = await caught(attempt());
        expect(error).toBeInstanceOf(ForbiddenError);
        expect(error).toMatchObject({ code: 'permission_denied' });
      }
    }
    const tenant = await h.store.withTenant(f.context, (tx) => tx.tenants.current());
    expect(tenant.name).toBe(f.tenant.name);
    expect(tenant.settings).not.toHaveProperty('theme');
    const roles = await h.store.withTenant(f.context, (tx) => tx.memberships.list());
    expect(roles.items.find((m) => m.userId === f.owner.id)?.role).toBe('owner');
  });

  it('lets an owner or admin govern, and any actor count usage', async () => {
    await h.store.withTenant(as('user', admin.id), (tx) =>
      tx.memberships.update(member.id, { role: 'manager' }),
    );
    await h.store.withTenant(f.context, (tx) => tx.tenants.updateSettings({ theme: 'light' }));
    const used = await h.store.withTenant(as('agent', agentId), (tx) =>
      tx.tenants.incrementUsage('api_calls', 2),
    );
    expect(used).toBe(2);
  });
});
