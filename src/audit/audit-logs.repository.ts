import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseInput } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { type ListAuditLogsInput, listAuditLogsSchema } from './audit-logs.contract.ts';
import { type AuditLog, auditLogs } from './audit-logs.schema.ts';

// Newest first: (occurred_at, id) descending. Rows of one transaction share occurred_at.
const auditKey = z.tuple([cursorTimestamp, z.number().int().positive()]);

/**
 * Rows before the cursor's row in (occurred_at, id) descending order. Its exact time is read back
 * by its id (exactTimestamp); both the lookup and the comparison are ranges of the primary key
 * (tenant_id, occurred_at, id).
 */
function before(cursor: string): SQL {
  const [at, id] = decodeCursor('audit logs', cursor, auditKey);
  const exact = exactTimestamp(auditLogs.occurredAt, auditLogs.id, at, id);
  return sql`(${auditLogs.occurredAt}, ${auditLogs.id}) < (${exact}, ${id})`;
}

/** The tenant's audit trail, newest first. Read-only: rows are written by the database itself. */
export const auditLogsRepository = {
  /** One page of the trail, newest first. */
  async list(tx: TenantScope, input: ListAuditLogsInput = {}): Promise<Page<AuditLog>> {
    const query = parseInput(listAuditLogsSchema, input, 'audit query');
    const conditions: SQL[] = [];
    if (query.tableName) conditions.push(eq(auditLogs.tableName, query.tableName));
    if (query.rowId) conditions.push(eq(auditLogs.rowId, query.rowId));
    if (query.cursor) conditions.push(before(query.cursor));
    const rows = await tx.db
      .select()
      .from(auditLogs)
      .where(and(...conditions))
      .orderBy(desc(auditLogs.occurredAt), desc(auditLogs.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'audit logs', (row) => [row.occurredAt.toISOString(), row.id]);
  },
};
