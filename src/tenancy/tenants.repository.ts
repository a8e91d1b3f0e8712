import { and, asc, eq, getTableColumns, gt, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { jsonObjectSchema, nameSchema, parseId, parseInput, slugSchema } from '../shared/validation.ts';
import type { ServiceTx, TenantTx } from '../store/unit-of-work.ts';
import { TENANT_PLANS, TENANT_STATUSES, type Tenant, type TenantStatus, tenants } from './tenants.schema.ts';

/** The tenant lifecycle: which status may follow which. `deleted` is final. */
export const TENANT_TRANSITIONS: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = {
  pending: ['active', 'deleted'],
  active: ['suspended', 'deleted'],
  suspended: ['active', 'deleted'],
  deleted: [],
};

const counterSchema = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lowercase identifier');
const quotasSchema = z.record(counterSchema, z.number().int().nonnegative());

const createTenantSchema = z.strictObject({
  slug: slugSchema,
  name: nameSchema,
  plan: z.enum(TENANT_PLANS).default('free'),
  status: z.enum(['pending', 'active']).default('pending'),
  settings: jsonObjectSchema.default({}),
  quotas: quotasSchema.default({}),
});
export type CreateTenantInput = z.input<typeof createTenantSchema>;

const listTenantsSchema = z.strictObject({
  status: z.enum(TENANT_STATUSES).optional(),
  afterSlug: slugSchema.optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type ListTenantsInput = z.input<typeof listTenantsSchema>;

// A tenant only ever adds usage, and never to `projects`, which the database counts from live
// projects; add_usage() enforces the same for raw SQL, this reports it before the round trip.
const incrementSchema = z.strictObject({
  counter: counterSchema.refine((c) => c !== 'projects', 'is counted by the database from live projects'),
  by: z.number().int().positive(),
});

/** Runs agentflow.add_usage, which decides what the calling role may change, and returns the new value. */
async function addUsage(
  tx: TenantTx | ServiceTx,
  tenantId: string,
  counter: string,
  by: number,
): Promise<number> {
  const [row] = await tx.query<{ value: string }>('SELECT agentflow.add_usage($1, $2, $3) AS value', [
    tenantId,
    counter,
    by,
  ]);
  return Number(row?.value);
}

// The service role may move any counter either way (freeing seats, correcting a count), never by 0.
const adjustSchema = z.strictObject({
  counter: counterSchema,
  by: z
    .number()
    .int()
    .refine((n) => n !== 0, 'must not be zero'),
});

const selectTenant = compileStatement(getTableColumns(tenants), ['id'], (db, p) =>
  db.select().from(tenants).where(eq(tenants.id, p.id)),
);

async function findTenant(tx: TenantTx | ServiceTx, id: string): Promise<Tenant> {
  const [row] = await selectTenant.run(tx, { id });
  if (!row) throw new NotFoundError('tenant', id);
  return row;
}

/** What a tenant may do to itself, inside `withTenant`. */
export const tenantsRepository = {
  /** The tenant of this unit of work. */
  async current(tx: TenantTx): Promise<Tenant> {
    return findTenant(tx, tx.tenantId);
  },

  /**
   * Merges `patch` into the settings (top-level keys replace). The merged settings stay within 1 MiB
   * as stored JSON text (a trigger of migration 10), or nothing changes (ValidationError).
   */
  async updateSettings(tx: TenantTx, patch: Record<string, unknown>): Promise<Tenant> {
    const settings = parseInput(jsonObjectSchema, patch, 'tenant settings');
    const [row] = await tx.db
      .update(tenants)
      .set({ settings: sql`${tenants.settings} || ${JSON.stringify(settings)}::jsonb` })
      .where(eq(tenants.id, tx.tenantId))
      .returning();
    if (!row) throw new NotFoundError('tenant', tx.tenantId);
    return row;
  },

  /**
   * Adds `by` (a positive integer) to a usage counter of this tenant; concurrent increments queue on
   * the tenant row, so none is lost. Exceeding a quota of the same name is a ForbiddenError and
   * changes nothing. Lowering a counter is for the service role; `projects` is counted by the
   * database. Returns the new value.
   */
  async incrementUsage(tx: TenantTx, counter: string, by = 1): Promise<number> {
    const input = parseInput(incrementSchema, { counter, by }, 'usage increment');
    return addUsage(tx, tx.tenantId, input.counter, input.by);
  },
};

/** Cross-tenant administration, inside `asService`. */
export const tenantAdminRepository = {
  async create(tx: ServiceTx, input: CreateTenantInput): Promise<Tenant> {
    const values = parseInput(createTenantSchema, input, 'tenant');
    const [row] = await tx.db.insert(tenants).values(values).returning();
    return row!;
  },

  async get(tx: ServiceTx, id: string): Promise<Tenant> {
    return findTenant(tx, parseId(id, 'tenant'));
  },

  async getBySlug(tx: ServiceTx, slug: string): Promise<Tenant> {
    const value = parseInput(slugSchema, slug, 'tenant slug');
    const [row] = await tx.db
      .select()
      .from(tenants)
      .where(and(eq(tenants.slug, value), isNull(tenants.deletedAt)));
    if (!row) throw new NotFoundError('tenant', value);
    return row;
  },

  /** Live tenants (or those of one status) in slug order; pass the last slug as `afterSlug` for the next page. */
  async list(tx: ServiceTx, input: ListTenantsInput = {}): Promise<Tenant[]> {
    const query = parseInput(listTenantsSchema, input, 'tenant list');
    const conditions: SQL[] = [];
    if (query.status) conditions.push(eq(tenants.status, query.status));
    else conditions.push(isNull(tenants.deletedAt));
    if (query.afterSlug) conditions.push(gt(tenants.slug, query.afterSlug));
    return tx.db
      .select()
      .from(tenants)
      .where(and(...conditions))
      .orderBy(asc(tenants.slug))
      .limit(query.limit);
  },

  /** Moves a tenant along its lifecycle; a move the lifecycle does not allow is a ConflictError. */
  async setStatus(tx: ServiceTx, id: string, status: TenantStatus): Promise<Tenant> {
    const tenantId = parseId(id, 'tenant');
    const next = parseInput(z.enum(TENANT_STATUSES), status, 'tenant status');
    const allowedFrom = (Object.keys(TENANT_TRANSITIONS) as TenantStatus[]).filter((from) =>
      TENANT_TRANSITIONS[from].includes(next),
    );
    // The allowed-from condition makes the check and the write one atomic statement.
    const [row] = await tx.db
      .update(tenants)
      .set({ status: next, deletedAt: next === 'deleted' ? sql`now()` : null })
      .where(and(eq(tenants.id, tenantId), inArray(tenants.status, allowedFrom)))
      .returning();
    if (row) return row;
    const current = await findTenant(tx, tenantId);
    throw new ConflictError(
      'invalid_transition',
      `tenant ${tenantId} cannot go from ${current.status} to ${next}`,
      { entity: 'tenant' },
    );
  },

  async setPlan(tx: ServiceTx, id: string, plan: Tenant['plan']): Promise<Tenant> {
    const tenantId = parseId(id, 'tenant');
    const value = parseInput(z.enum(TENANT_PLANS), plan, 'tenant plan');
    const [row] = await tx.db
      .update(tenants)
      .set({ plan: value })
      .where(eq(tenants.id, tenantId))
      .returning();
    if (!row) throw new NotFoundError('tenant', tenantId);
    return row;
  },

  /** Replaces the quotas; a counter without a quota is unlimited. */
  async setQuotas(tx: ServiceTx, id: string, quotas: Record<string, number>): Promise<Tenant> {
    const tenantId = parseId(id, 'tenant');
    const value = parseInput(quotasSchema, quotas, 'tenant quotas');
    const [row] = await tx.db
      .update(tenants)
      .set({ quotas: value })
      .where(eq(tenants.id, tenantId))
      .returning();
    if (!row) throw new NotFoundError('tenant', tenantId);
    return row;
  },

  /**
   * Adds `by` (positive or negative) to a usage counter of a tenant, `projects` included (to repair
   * a count). Raising past a quota is a ForbiddenError, going below zero a ConflictError; either way
   * nothing changes. Returns the new value.
   */
  async adjustUsage(tx: ServiceTx, id: string, counter: string, by: number): Promise<number> {
    const tenantId = parseId(id, 'tenant');
    const input = parseInput(adjustSchema, { counter, by }, 'usage adjustment');
    return addUsage(tx, tenantId, input.counter, input.by);
  },

  /** Soft delete: the row stays for the audit trail, its slug becomes free for a new tenant. */
  async softDelete(tx: ServiceTx, id: string): Promise<Tenant> {
    return tenantAdminRepository.setStatus(tx, id, 'deleted');
  },
};
