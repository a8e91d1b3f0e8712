import { sql } from 'drizzle-orm';
import { jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
  (table) => [uniqueIndex('tenants_slug_live_key').on(table.slug).where(sql`deleted_at IS NULL`)],
);

export type Tenant = typeof tenants.$inferSelect;
