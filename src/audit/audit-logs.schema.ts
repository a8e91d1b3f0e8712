import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sqlValues } from '../shared/check-values.ts';
import { primaryKeyName } from '../shared/columns.ts';

export const AUDIT_ACTOR_TYPES = ['user', 'agent', 'service', 'system'] as const;
export const AUDIT_ACTIONS = ['insert', 'update', 'delete'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/**
 * The tenant_id of audit rows that belong to no tenant (changes of users, a global table; service
 * work without a tenant). No tenant may have this id (a CHECK on tenants), so no tenant sees them.
 */
export const NO_TENANT_ID = '00000000-0000-0000-0000-000000000000';

/**
 * A value over this many bytes (file content, a large document) is recorded in the audit trail as
 * `{ $omitted: { bytes, sha256 } }`, its size and SHA-256, instead of whole; a secret column as
 * `{ $redacted: true }`. The database applies it (agentflow.audit_values, migration 1).
 */
export const AUDIT_VALUE_MAX_BYTES = 4096;

/**
 * Written only by the database's audit trigger; append-only for every application role. Keyed
 * (tenant_id, occurred_at, id) so that it can be partitioned by time and distributed by tenant.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    tenantId: uuid('tenant_id').notNull(),
    actorType: text('actor_type', { enum: AUDIT_ACTOR_TYPES }).notNull(),
    actorId: text('actor_id'),
    dbRole: text('db_role').notNull(),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    tableName: text('table_name').notNull(),
    rowId: text('row_id'),
    oldValues: jsonb('old_values').$type<Record<string, unknown>>(),
    newValues: jsonb('new_values').$type<Record<string, unknown>>(),
    requestContext: jsonb('request_context').$type<Record<string, unknown>>(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: primaryKeyName('audit_logs'), columns: [table.tenantId, table.occurredAt, table.id] }),
    index('audit_logs_tenant_row_idx').on(table.tenantId, table.tableName, table.rowId),
    check('audit_logs_actor_type_check', sql`${table.actorType} IN (${sqlValues(AUDIT_ACTOR_TYPES)})`),
    check('audit_logs_action_check', sql`${table.action} IN (${sqlValues(AUDIT_ACTIONS)})`),
  ],
);

export type AuditLog = typeof auditLogs.$inferSelect;
