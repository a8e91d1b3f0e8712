import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, nameSchema, slugSchema } from '../shared/validation.ts';
import { TENANT_PLANS, TENANT_STATUSES, type TenantStatus } from './tenants.schema.ts';

/** The tenant lifecycle: which status may follow which. `deleted` is final. */
export const TENANT_TRANSITIONS: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = {
  pending: ['active', 'deleted'],
  active: ['suspended', 'deleted'],
  suspended: ['active', 'deleted'],
  deleted: [],
};

/** The name of a usage counter or quota. */
export const usageCounterSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lowercase identifier');
/** Quotas by counter; a counter without a quota is unlimited. */
export const quotasSchema = z.record(usageCounterSchema, z.number().int().nonnegative());
export const tenantPlanSchema = z.enum(TENANT_PLANS);
export const tenantStatusSchema = z.enum(TENANT_STATUSES);

/** Input of `tenants.create` (service role). */
export const createTenantSchema = z.strictObject({
  slug: slugSchema,
  name: nameSchema,
  plan: tenantPlanSchema.default('free'),
  status: z.enum(['pending', 'active']).default('pending'),
  settings: jsonObjectSchema.default({}),
  quotas: quotasSchema.default({}),
});
export type CreateTenantInput = z.input<typeof createTenantSchema>;

/** Input of `tenants.list` (service role): live tenants, or those of one status, in slug order. */
export const listTenantsSchema = z.strictObject({
  status: tenantStatusSchema.optional(),
  ...pageFields,
});
export type ListTenantsInput = z.input<typeof listTenantsSchema>;

/** A patch of `tenants.updateSettings`: top-level keys replace the stored ones. */
export const tenantSettingsPatchSchema = jsonObjectSchema;

// A tenant only ever adds usage, and never to `projects`, which the database counts from live
// projects; add_usage() enforces the same for raw SQL, this reports it before the round trip.
/** Arguments of `tenants.incrementUsage` (tenant). */
export const incrementUsageSchema = z.strictObject({
  counter: usageCounterSchema.refine(
    (c) => c !== 'projects',
    'is counted by the database from live projects',
  ),
  by: z.number().int().positive(),
});

// The service role may move any counter either way (freeing seats, correcting a count), never by 0.
/** Arguments of `tenants.adjustUsage` (service role). */
export const adjustUsageSchema = z.strictObject({
  counter: usageCounterSchema,
  by: z
    .number()
    .int()
    .refine((n) => n !== 0, 'must not be zero'),
});
