// The public API of AgentFlow DB. Kept by hand: what is not exported here is internal.

export * from './agents/index.ts';
export * from './approvals/index.ts';
export * from './audit/index.ts';
export * as coordination from './coordination/index.ts';
export { parseDatabaseUrl, redactUrl } from './engine/database-url.ts';
export type { Connection, Database, Engine, EngineKind, TransactionOptions } from './engine/engine.ts';
export * from './errors/index.ts';
export * from './events/index.ts';
export * from './executions/index.ts';
export * from './knowledge/index.ts';
export * from './kpis/index.ts';
export { loadMigrations, type Migration } from './migrations/migration-files.ts';
export { type MigrationStatus, Migrator } from './migrations/migrator.ts';
export * from './projects/index.ts';
export * from './retention/index.ts';
export * as schema from './schema.ts';
export { CompiledStatement, compileStatement } from './shared/compiled-statement.ts';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type Page } from './shared/pagination.ts';
export type { Actor, RequestContext, ServiceContext, TenantContext } from './store/actor.ts';
export { APP_ROLE, SERVICE_ROLE } from './store/roles.ts';
export type { ServiceScope, TenantScope } from './store/scope.ts';
export { type OpenStoreOptions, openStore, Store } from './store/store.ts';
export { ServiceTx, TenantTx } from './store/unit-of-work.ts';
export * from './tasks/index.ts';
export * from './tenancy/index.ts';
export {
  APPEND_ONLY_TABLES,
  type VerifyCheck,
  type VerifyReport,
  verifyDatabase,
} from './verify/verify-database.ts';
export * from './wiki/index.ts';
export * from './work-sessions/index.ts';
