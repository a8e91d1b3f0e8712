import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { parseInput } from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { type AuditLog, auditLogs } from './audit-logs.schema.ts';

/** Where the previous page ended: the `occurredAt` and `id` of its last row. */
const auditCursorSchema = z.strictObject({
  occurredAt: z.date(),
  id: z.number().int().positive(),
});
export type AuditCursor = z.input<typeof auditCursorSchema>;

const listAuditSchema = z.strictObject({
  tableName: z.string().min(1).max(63).optional(),
  rowId: z.string().min(1).max(200).optional(),
  before: auditCursorSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type ListAuditInput = z.input<typeof listAuditSchema>;

/**
 * Rows after `cursor` in the order (occurred_at, id) descending. A Date holds milliseconds and
 * occurred_at microseconds, so the cursor row's exact time is read back by its id from the
 * millisecond either side of the given one: rows sharing its millisecond are neither skipped nor
 * repeated. A cursor that names no row of the tenant pages on from the time as given. The lookup
 * and the row comparison are both ranges of the primary key (tenant_id, occurred_at, id); the
 * fallback stays inside the sub-select because a COALESCE around it would not count as leakproof,
 * and row-level security would then keep the comparison out of the index scan.
 */
function after(cursor: z.output<typeof auditCursorSchema>): SQL {
  const at = sql`${cursor.occurredAt.toISOString()}::timestamptz`;
  const exact = sql`(SELECT coalesce(max(c.occurred_at), ${at}) FROM audit_logs c
     WHERE c.occurred_at > ${at} - interval '1 millisecond' AND c.occurred_at < ${at} + interval '1 millisecond'
       AND c.id = ${cursor.id})`;
  return sql`(${auditLogs.occurredAt}, ${auditLogs.id}) < (${exact}, ${cursor.id})`;
}

/** The tenant's audit trail, newest first. Read-only: rows are written by the database itself. */
export const auditLogsRepository = {
  /** One page; pass the last row's `{ occurredAt, id }` as `before` for the next. */
  async list(tx: TenantTx, input: ListAuditInput = {}): Promise<AuditLog[]> {
    const query = parseInput(listAuditSchema, input, 'audit query');
    const conditions: SQL[] = [];
    if (query.tableName) conditions.push(eq(auditLogs.tableName, query.tableName));
    if (query.rowId) conditions.push(eq(auditLogs.rowId, query.rowId));
    if (query.before) conditions.push(after(query.before));
    return tx.db
      .select()
      .from(auditLogs)
      .where(and(...conditions))
      .orderBy(desc(auditLogs.occurredAt), desc(auditLogs.id))
      .limit(query.limit);
  },
};
