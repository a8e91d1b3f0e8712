import { sql } from 'drizzle-orm';
import { check, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sqlValues } from '../shared/check-values.ts';
import { deletedAtColumn, timestampColumns } from '../shared/columns.ts';

export const TENANT_PLANS = ['free', 'starter', 'professional', 'enterprise'] as const;
export const TENANT_STATUSES = ['pending', 'active', 'suspended', 'deleted'] as const;
export type TenantPlan = (typeof TENANT_PLANS)[number];
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    plan: text('plan', { enum: TENANT_PLANS }).notNull().default('free'),
    status: text('status', { enum: TENANT_STATUSES }).notNull().default('pending'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    quotas: jsonb('quotas').$type<Record<string, number>>().notNull().default({}),
    usage: jsonb('usage').$type<Record<string, number>>().notNull().default({}),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    uniqueIndex('tenants_slug_live_key').on(table.slug).where(sql`deleted_at IS NULL`),
    check('tenants_slug_check', sql`${table.slug} ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`),
    check('tenants_name_check', sql`char_length(${table.name}) BETWEEN 1 AND 200`),
    check('tenants_plan_check', sql`${table.plan} IN (${sqlValues(TENANT_PLANS)})`),
    check('tenants_status_check', sql`${table.status} IN (${sqlValues(TENANT_STATUSES)})`),
    check('tenants_settings_check', sql`jsonb_typeof(${table.settings}) = 'object'`),
    check('tenants_quotas_check', sql`jsonb_typeof(${table.quotas}) = 'object'`),
    check('tenants_usage_check', sql`jsonb_typeof(${table.usage}) = 'object'`),
    check('tenants_deleted_status', sql`(${table.status} = 'deleted') = (${table.deletedAt} IS NOT NULL)`),
    check('tenants_id_not_sentinel', sql`${table.id} <> '00000000-0000-0000-0000-000000000000'`),
  ],
);

export type Tenant = typeof tenants.$inferSelect;
