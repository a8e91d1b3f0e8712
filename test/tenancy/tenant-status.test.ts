import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { type DatabaseError, ForbiddenError, type TenantStatus } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

describeEachEngine('tenant work follows the tenant lifecycle', (h) => {
  let f: TenantFixture;

  const setStatus = (status: TenantStatus) =>
    h.store.asService({ actor: 'test' }, (svc) => svc.tenants.setStatus(f.tenant.id, status));
  const createProject = (slug: string) =>
    h.store.withTenant(f.context, (tx) => tx.projects.create({ slug, name: slug }));

  beforeAll(async () => {
    f = await createTenant(h.store);
    await createProject('before');
  });

  it('refuses every unit of work of a suspended tenant, reads included, with a typed error naming why', async () => {
    await setStatus('suspended');
    for (const work of [
      () => createProject('while-suspended'),
      () => h.store.withTenant(f.context, (tx) => tx.projects.list(), { readOnly: true }),
    ]) {
      const error = await caught(work());
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as Error).message).toMatch(/is suspended: no tenant work runs until it is reactivated/);
      expect(((error as Error).cause as DatabaseError).kind).toBe('tenant_unavailable');
    }
    expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [f.tenant.id])).toBe(1);
  });

  it('runs again once the service role reactivates the tenant, its data intact', async () => {
    await setStatus('active');
    await createProject('after');
    const slugs = await h.store.withTenant(f.context, async (tx) =>
      (await tx.projects.list()).items.map((p) => p.slug),
    );
    expect(slugs.sort()).toEqual(['after', 'before']);
  });

  it('lets a pending tenant work (onboarding) and refuses a deleted or unknown one', async () => {
    const pending = await h.store.asService({ actor: 'test' }, (svc) =>
      svc.tenants.create({ slug: `pending-${randomUUID().slice(0, 8)}`, name: 'Pending' }),
    );
    expect(pending.status).toBe('pending');
    // A write any actor of the tenant may make (settings are for its owners and admins).
    await h.store.withTenant({ tenantId: pending.id, actor: f.actor }, (tx) =>
      tx.tenants.incrementUsage('onboarding_steps', 1),
    );

    await h.store.asService({ actor: 'test' }, (svc) => svc.tenants.delete(pending.id));
    for (const tenantId of [pending.id, randomUUID()]) {
      const error = await caught(
        h.store.withTenant({ tenantId, actor: f.actor }, (tx) => tx.projects.list()),
      );
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as Error).message).toMatch(/does not exist or is deleted/);
    }
  });
});
