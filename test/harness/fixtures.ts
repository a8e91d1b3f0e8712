import { randomBytes } from 'node:crypto';
import type { Actor, AgentType, Store, Tenant, User } from '../../src/index.ts';
import type { EngineHarness } from './engines.ts';

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
    await svc.memberships.create(tenant.id, { userId: owner.id, role: 'owner' });
    const actor: Actor = { type: 'user', id: owner.id };
    return { tenant, owner, actor, context: { tenantId: tenant.id, actor } };
  });
}

/**
 * An active agent of `tenantId` (organization level unless `projectId` is given), created the way an
 * operator would, through the service role; its code is random unless given. Returns its id.
 */
export async function createAgent(
  store: Store,
  tenantId: string,
  options: { projectId?: string | null; type?: AgentType; code?: string } = {},
): Promise<string> {
  const code = options.code ?? `a-${randomBytes(4).toString('hex')}`;
  const agent = await store.asService({ actor: 'test-fixture' }, (svc) =>
    svc.agents.create(tenantId, {
      code,
      name: code,
      type: options.type ?? 'backend_dev',
      roleTitle: 'Engineer',
      projectId: options.projectId ?? null,
    }),
  );
  return agent.id;
}

/** The error a promise rejects with, or undefined when it resolves: for asserting on the error's fields. */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Counts rows as the owner (no row-level security): what is really stored, whatever a tenant sees. */
export async function ownerCount(h: EngineHarness, from: string, params: unknown[] = []): Promise<number> {
  const [row] = await h.asOwner((c) =>
    c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`, params),
  );
  return row?.n ?? -1;
}
