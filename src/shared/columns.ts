import { sql } from 'drizzle-orm';
import { timestamp, uuid } from 'drizzle-orm/pg-core';

// Functions, not shared objects: Drizzle's column builders are mutable (`.references()` adds to them).

/** The tenant column every tenant-scoped table starts with, first in every key and index. */
export const tenantIdColumn = () => uuid('tenant_id').notNull().default(sql`agentflow.current_tenant_id()`);

/** Row id of a tenant-scoped table; the primary key is (tenant_id, id). */
export const scopedIdColumn = () => uuid('id').notNull().defaultRandom();

export const timestampColumns = () => ({
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const deletedAtColumn = () => timestamp('deleted_at', { withTimezone: true });
