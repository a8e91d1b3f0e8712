import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';

/** Input of `auditLogs.list`: the tenant's trail newest first, optionally of one table or row. */
export const listAuditLogsSchema = z.strictObject({
  tableName: z.string().min(1).max(63).optional(),
  rowId: z.string().min(1).max(200).optional(),
  ...pageFields,
});
export type ListAuditLogsInput = z.input<typeof listAuditLogsSchema>;
