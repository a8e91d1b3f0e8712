// The public API of AgentFlow DB. Kept by hand: what is not exported here is internal.

export { type AuditLog, NO_TENANT_ID } from './audit/audit-logs.schema.ts';
export * as coordination from './coordination/index.ts';
export { parseDatabaseUrl, redactUrl } from './engine/database-url.ts';
export type { Connection, Database, Engine, EngineKind, TransactionOptions } from './engine/engine.ts';
export * from './errors/index.ts';
export { loadMigrations, type Migration } from './migrations/migration-files.ts';
export { type MigrationStatus, Migrator } from './migrations/migrator.ts';
export type { AgentState } from './projects/agent-states.schema.ts';
export type { ProjectFile } from './projects/project-files.schema.ts';
export type { Project } from './projects/projects.schema.ts';
export * as schema from './schema.ts';
export { CompiledStatement, compileStatement } from './shared/compiled-statement.ts';
export type { Actor, RequestContext, ServiceContext, TenantContext } from './store/actor.ts';
export { APP_ROLE, SERVICE_ROLE } from './store/roles.ts';
export { type OpenStoreOptions, openStore, Store } from './store/store.ts';
export { ServiceTx, TenantTx } from './store/unit-of-work.ts';
export type { Membership, MembershipRole } from './tenancy/memberships.schema.ts';
export type { Tenant, TenantPlan, TenantStatus } from './tenancy/tenants.schema.ts';
export type { User } from './tenancy/users.schema.ts';
export {
  APPEND_ONLY_TABLES,
  type VerifyCheck,
  type VerifyReport,
  verifyDatabase,
} from './verify/verify-database.ts';
