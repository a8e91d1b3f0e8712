import { pageSchema, rowSchema } from '../http/openapi.ts';
import { type TenantRoute, tenantRoute } from '../http/route.ts';
import { type ListAuditLogsInput, listAuditLogsSchema } from './audit-logs.contract.ts';
import { auditLogs } from './audit-logs.schema.ts';

/** The tenant's audit trail over HTTP: read-only, as the rows are written by the database itself. */
export const auditLogRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/audit-logs',
    operationId: 'auditLogs.list',
    singleStatement: true,
    covers: ['auditLogs.list'],
    tag: 'audit',
    summary:
      "List the tenant's audit trail newest first, optionally of one table (`tableName`) or row (`rowId`)",
    query: listAuditLogsSchema,
    response: pageSchema(rowSchema(auditLogs)),
    handler: ({ tx, query }) => tx.auditLogs.list(query as ListAuditLogsInput),
  }),
];
