import { AgentflowError } from './agentflow-error.ts';

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Input was rejected before (or by) the database: nothing was written. */
export class ValidationError extends AgentflowError {
  readonly code = 'validation_failed';
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The row does not exist, or is not visible to the current tenant (the two are indistinguishable on purpose). */
export class NotFoundError extends AgentflowError {
  readonly code = 'not_found';
  constructor(
    readonly entity: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`${entity} ${key} not found`, options);
  }
}

/** The write collides with the current state: a duplicate, a stale version, a forbidden transition. */
export class ConflictError extends AgentflowError {
  readonly code = 'conflict';
}

/** The actor may not do this, or the database's row-level security refused the row. */
export class ForbiddenError extends AgentflowError {
  readonly code = 'forbidden';
}

/** A tenant-scoped operation ran without a valid tenant or actor. */
export class TenantContextError extends AgentflowError {
  readonly code = 'tenant_context_missing';
}

/** The database schema is not the one this code was built for. */
export class SchemaVersionError extends AgentflowError {
  readonly code = 'schema_version_mismatch';
}

/** A migration file does not match what was applied, or cannot be applied. */
export class MigrationError extends AgentflowError {
  readonly code = 'migration_failed';
}

/** Configuration (URLs, options) is invalid. */
export class ConfigurationError extends AgentflowError {
  readonly code = 'invalid_configuration';
}

/** The library was called in a way it does not support, such as a unit of work inside another. */
export class UsageError extends AgentflowError {
  readonly code = 'invalid_usage';
}
