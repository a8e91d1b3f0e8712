export { AgentflowError } from './agentflow-error.ts';
export { ConnectionError, isConnectionLoss } from './connection-error.ts';
export { DatabaseError, type SqlStateKind, sqlStateKind } from './database-error.ts';
export {
  type AuthenticationCode,
  AuthenticationError,
  ConfigurationError,
  type ConflictCode,
  ConflictError,
  type ForbiddenCode,
  ForbiddenError,
  MigrationError,
  NotFoundError,
  SchemaVersionError,
  TenantContextError,
  UsageError,
  type ValidationCode,
  ValidationError,
  type ValidationIssue,
} from './domain-errors.ts';
export { CONSTRAINT_ERRORS, KIND_ERRORS, mapDatabaseError, RAISED_ERRORS } from './error-mapping.ts';
export { toDatabaseError, translateError } from './translate-error.ts';
