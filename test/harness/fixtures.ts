import { randomBytes } from 'node:crypto';
import type { Actor, Store, Tenant, User } from '../../src/index.ts';

export interface TenantFixture {
  tenant: Tenant;
  owner: User;
  actor: Actor;
  context: { tenantId: string; actor: Actor };
}

export function uniqueSlug(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** An active tenant with one owner, created the way an operator would: through the service role. */
export async function createTenant(
  store: Store,
  options: { quotas?: Record<string, number> } = {},
): Promise<TenantFixture> {
  return store.asService({ actor: 'test-fixture' }, async (svc) => {
    const slug = uniqueSlug();
    const tenant = await svc.tenants.create({
      slug,
      name: `Tenant ${slug}`,
      status: 'active',
      quotas: options.quotas ?? {},
    });
    const owner = await svc.users.create({ email: `owner@${slug}.test`, name: `Owner of ${slug}` });
    await svc.memberships.add(tenant.id, { userId: owner.id, role: 'owner' });
    const actor: Actor = { type: 'user', id: owner.id };
    return { tenant, owner, actor, context: { tenantId: tenant.id, actor } };
  });
}
