import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { parseInput } from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { type AuditLog, auditLogs } from './audit-logs.schema.ts';

const listAuditSchema = z.strictObject({
  tableName: z.string().min(1).max(63).optional(),
  rowId: z.string().min(1).max(200).optional(),
  beforeId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type ListAuditInput = z.input<typeof listAuditSchema>;

/** The tenant's audit trail, newest first. Read-only: rows are written by the database itself. */
export const auditLogsRepository = {
  async list(tx: TenantTx, input: ListAuditInput = {}): Promise<AuditLog[]> {
    const query = parseInput(listAuditSchema, input, 'audit query');
    const conditions: SQL[] = [];
    if (query.tableName) conditions.push(eq(auditLogs.tableName, query.tableName));
    if (query.rowId) conditions.push(eq(auditLogs.rowId, query.rowId));
    if (query.beforeId) conditions.push(lt(auditLogs.id, query.beforeId));
    return tx.db
      .select()
      .from(auditLogs)
      .where(and(...conditions))
      .orderBy(desc(auditLogs.id))
      .limit(query.limit);
  },
};
