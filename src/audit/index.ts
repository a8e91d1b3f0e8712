// The audit domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './audit-logs.contract.ts';
export { AUDIT_ACTOR_TYPES, type AuditActorType, type AuditLog, NO_TENANT_ID } from './audit-logs.schema.ts';
