import { eq } from 'drizzle-orm';
import type { z } from 'zod';
import { rowSchema } from '../http/openapi.ts';
import { type TenantRoute, type TenantRouteContext, tenantRoute } from '../http/route.ts';
import { incrementUsageSchema, tenantSettingsPatchSchema } from './tenants.contract.ts';
import { tenants } from './tenants.schema.ts';

const tenant = rowSchema(tenants);
const tag = 'tenancy';

/**
 * `ifMatch.lock` for the caller's own tenant row: lockRowOf keys rows by tenant_id and id, and the
 * tenants table has only the id, which is the unit of work's tenant.
 */
async function lockOwnTenant({ tx }: TenantRouteContext): Promise<void> {
  await tx.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tx.tenantId)).for('update');
}

/** The caller's own tenant over HTTP: no route names a tenant, so none can reach another. */
export const tenantRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/tenant',
    operationId: 'tenants.current',
    singleStatement: true,
    covers: ['tenants.current'],
    tag,
    summary: "Read the caller's tenant (plan, status, settings, quotas and usage)",
    response: tenant,
    handler: ({ tx }) => tx.tenants.current(),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/tenant/settings',
    operationId: 'tenants.updateSettings',
    covers: ['tenants.updateSettings'],
    tag,
    summary: 'Merge a patch into the settings: its top-level keys replace the stored ones',
    body: tenantSettingsPatchSchema,
    response: tenant,
    // The ETag is the whole tenant's, as GET /v1/tenant returns it: a usage increment since the
    // read also fails the precondition, since the representation the caller saw is no longer current.
    ifMatch: { lock: lockOwnTenant, current: ({ tx }) => tx.tenants.current() },
    handler: ({ tx, body }) => tx.tenants.updateSettings(body as Record<string, unknown>),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tenant/usage',
    operationId: 'tenants.incrementUsage',
    covers: ['tenants.incrementUsage'],
    tag,
    summary:
      'Add to a usage counter (403 past its quota, and nothing changes); send an Idempotency-Key to retry safely',
    body: incrementUsageSchema,
    response: {
      type: 'object',
      properties: { counter: { type: 'string' }, value: { type: 'integer', description: 'the new value' } },
      required: ['counter', 'value'],
    },
    handler: async ({ tx, body }) => {
      const { counter, by } = body as z.input<typeof incrementUsageSchema>;
      return { counter, value: await tx.tenants.incrementUsage(counter, by) };
    },
  }),
];
