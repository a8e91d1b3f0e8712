import { sql } from 'drizzle-orm';
import { check, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { primaryKeyName, tenantIdColumn } from '../shared/columns.ts';

/** The HTTP API's idempotency keys: a POST's key and its committed response, per tenant. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: tenantIdColumn(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: primaryKeyName('idempotency_keys'), columns: [table.tenantId, table.key] }),
    check('idempotency_keys_key_check', sql`${table.key} ~ '^[!-~]{1,255}$'`),
    check('idempotency_keys_fingerprint_check', sql`${table.fingerprint} ~ '^[0-9a-f]{64}$'`),
    check('idempotency_keys_status_check', sql`${table.responseStatus} BETWEEN 200 AND 299`),
  ],
);

export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
