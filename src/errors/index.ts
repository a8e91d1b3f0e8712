export { AgentflowError } from './agentflow-error.ts';
export { ConnectionError, isConnectionLoss } from './connection-error.ts';
export { DatabaseError, type SqlStateKind, sqlStateKind } from './database-error.ts';
export {
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  MigrationError,
  NotFoundError,
  SchemaVersionError,
  TenantContextError,
  UsageError,
  ValidationError,
  type ValidationIssue,
} from './domain-errors.ts';
export { toDatabaseError, translateError } from './translate-error.ts';
