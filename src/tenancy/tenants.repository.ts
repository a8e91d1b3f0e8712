import { and, asc, eq, getTableColumns, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, slugSchema, uuidSchema } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  adjustUsageSchema,
  type CreateTenantInput,
  createTenantSchema,
  incrementUsageSchema,
  type ListTenantsInput,
  listTenantsSchema,
  quotasSchema,
  TENANT_TRANSITIONS,
  tenantPlanSchema,
  tenantSettingsPatchSchema,
  tenantStatusSchema,
} from './tenants.contract.ts';
import { type Tenant, type TenantStatus, tenants } from './tenants.schema.ts';

// Deleted tenants may share a slug: the id keeps the key total.
const tenantsKey = z.tuple([slugSchema, uuidSchema]);

/** Runs agentflow.add_usage, which decides what the calling role may change, and returns the new value. */
async function addUsage(
  tx: TenantScope | ServiceScope,
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

const selectTenant = compileStatement(getTableColumns(tenants), ['id'], (db, p) =>
  db.select().from(tenants).where(eq(tenants.id, p.id)),
);

async function findTenant(tx: TenantScope | ServiceScope, id: string): Promise<Tenant> {
  const [row] = await selectTenant.run(tx, { id });
  if (!row) throw new NotFoundError('tenant', id);
  return row;
}

/** What a tenant may do to itself, inside `withTenant`. */
export const tenantsRepository = {
  /** The tenant of this unit of work. */
  async current(tx: TenantScope): Promise<Tenant> {
    return findTenant(tx, tx.tenantId);
  },

  /**
   * Merges `patch` into the settings (top-level keys replace). The merged settings stay within 1 MiB
   * as stored JSON text (a trigger of migration 2), or nothing changes (ValidationError).
   */
  async updateSettings(tx: TenantScope, patch: Record<string, unknown>): Promise<Tenant> {
    const settings = parseInput(tenantSettingsPatchSchema, patch, 'tenant settings');
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
  async incrementUsage(tx: TenantScope, counter: string, by = 1): Promise<number> {
    const input = parseInput(incrementUsageSchema, { counter, by }, 'usage increment');
    return addUsage(tx, tx.tenantId, input.counter, input.by);
  },
};

/** Cross-tenant administration, inside `asService`. */
export const tenantAdminRepository = {
  async create(tx: ServiceScope, input: CreateTenantInput): Promise<Tenant> {
    const values = parseInput(createTenantSchema, input, 'tenant');
    const [row] = await tx.db.insert(tenants).values(values).returning();
    return row!;
  },

  async get(tx: ServiceScope, id: string): Promise<Tenant> {
    return findTenant(tx, parseId(id, 'tenant'));
  },

  async getBySlug(tx: ServiceScope, slug: string): Promise<Tenant> {
    const value = parseInput(slugSchema, slug, 'tenant slug');
    const [row] = await tx.db
      .select()
      .from(tenants)
      .where(and(eq(tenants.slug, value), isNull(tenants.deletedAt)));
    if (!row) throw new NotFoundError('tenant', value);
    return row;
  },

  /** One page of live tenants (or those of one status) in slug order. */
  async list(tx: ServiceScope, input: ListTenantsInput = {}): Promise<Page<Tenant>> {
    const query = parseInput(listTenantsSchema, input, 'tenant list');
    const conditions: SQL[] = [];
    if (query.status) conditions.push(eq(tenants.status, query.status));
    else conditions.push(isNull(tenants.deletedAt));
    if (query.cursor) {
      const [slug, id] = decodeCursor('tenants', query.cursor, tenantsKey);
      conditions.push(sql`(${tenants.slug}, ${tenants.id}) > (${slug}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(tenants)
      .where(and(...conditions))
      .orderBy(asc(tenants.slug), asc(tenants.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'tenants', (row) => [row.slug, row.id]);
  },

  /** Moves a tenant along its lifecycle; a move the lifecycle does not allow is a ConflictError. */
  async setStatus(tx: ServiceScope, id: string, status: TenantStatus): Promise<Tenant> {
    const tenantId = parseId(id, 'tenant');
    const next = parseInput(tenantStatusSchema, status, 'tenant status');
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

  async setPlan(tx: ServiceScope, id: string, plan: Tenant['plan']): Promise<Tenant> {
    const tenantId = parseId(id, 'tenant');
    const value = parseInput(tenantPlanSchema, plan, 'tenant plan');
    const [row] = await tx.db
      .update(tenants)
      .set({ plan: value })
      .where(eq(tenants.id, tenantId))
      .returning();
    if (!row) throw new NotFoundError('tenant', tenantId);
    return row;
  },

  /** Replaces the quotas; a counter without a quota is unlimited. */
  async setQuotas(tx: ServiceScope, id: string, quotas: Record<string, number>): Promise<Tenant> {
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
  async adjustUsage(tx: ServiceScope, id: string, counter: string, by: number): Promise<number> {
    const tenantId = parseId(id, 'tenant');
    const input = parseInput(adjustUsageSchema, { counter, by }, 'usage adjustment');
    return addUsage(tx, tenantId, input.counter, input.by);
  },

  /** Soft delete: the row stays for the audit trail, its slug becomes free for a new tenant. */
  async delete(tx: ServiceScope, id: string): Promise<Tenant> {
    return tenantAdminRepository.setStatus(tx, id, 'deleted');
  },
};
