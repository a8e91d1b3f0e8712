import { AgentflowError, type AgentflowErrorOptions } from './agentflow-error.ts';

export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationCode =
  /** Bad input: refused by a schema at the boundary, or by a CHECK / NOT NULL / type of the database. */
  | 'validation_failed'
  /** A foreign key names a row that does not exist (in this tenant). */
  | 'invalid_reference';

/** Input was rejected before (or by) the database: nothing was written. */
export class ValidationError extends AgentflowError {
  readonly code: ValidationCode;
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[] = [],
    options: AgentflowErrorOptions & { code?: ValidationCode } = {},
  ) {
    super(message, options);
    this.code = options.code ?? 'validation_failed';
  }
}

/** The row does not exist, or is not visible to the current tenant (the two are indistinguishable on purpose). */
export class NotFoundError extends AgentflowError {
  readonly code = 'not_found';
  override readonly entity: string;
  constructor(
    entity: string,
    readonly key?: string,
    options: Omit<AgentflowErrorOptions, 'entity'> = {},
  ) {
    super(key === undefined ? `${entity} not found` : `${entity} ${key} not found`, { ...options, entity });
    this.entity = entity;
  }
}

export type ConflictCode =
  | 'duplicate'
  | 'stale_version'
  /** A record dated before the latest one of its series (a KPI record older than the agent's latest). */
  | 'out_of_order'
  | 'invalid_transition'
  | 'still_referenced'
  | 'usage_underflow'
  | 'serialization_failure'
  | 'deadlock'
  | 'lock_not_available'
  /** Timeline: the agent already has an open work session; a stopped session is frozen; the agent is terminated. */
  | 'session_open'
  | 'session_stopped'
  | 'agent_unavailable'
  /** An HTTP idempotency key sent again with another request (actor, path or body). */
  | 'idempotency_key_reused'
  /** Tasks: a failed task has used its max_retries; an agent on probation given P0 work. */
  | 'retries_exhausted'
  | 'agent_on_probation'
  /** Task graph: the dependency would close a cycle. */
  | 'cycle'
  /** A task execution in a final status (success, failure, timeout): it is frozen. */
  | 'execution_finished'
  /** Tokens or cost recorded for an execution that is not running, or lowered. */
  | 'usage_refused'
  /** Approvals: the task already awaits a decision; a decided approval is final. */
  | 'approval_pending'
  | 'approval_decided'
  /** An approved or rejected wiki version, or the content of a pending one: it never changes. */
  | 'version_frozen'
  /** The wiki entry already has an open proposal (a draft or a pending version). */
  | 'proposal_open';

/** Conflicts that come from concurrent transactions, not from the data: the same unit of work run again may pass. */
const RETRYABLE_CONFLICTS: ReadonlySet<ConflictCode> = new Set([
  'serialization_failure',
  'deadlock',
  'lock_not_available',
]);

/** The write collides with the current state: a duplicate, a stale version, a forbidden transition. */
export class ConflictError extends AgentflowError {
  readonly code: ConflictCode;
  /** The field whose value collides (a duplicate's unique column), where known. */
  readonly field: string | undefined;
  constructor(
    code: ConflictCode,
    message: string,
    options: Omit<AgentflowErrorOptions, 'retryable'> & { field?: string } = {},
  ) {
    super(message, { ...options, retryable: RETRYABLE_CONFLICTS.has(code) });
    this.code = code;
    this.field = options.field;
  }
}

export type ForbiddenCode =
  /** Row-level security, a missing privilege, or a guard of the database refused it. */
  | 'permission_denied'
  /** A write in a read-only unit of work. */
  | 'read_only_transaction'
  /** A usage counter would pass the tenant's quota. */
  | 'quota_exceeded'
  /** The tenant is suspended, deleted or unknown: no tenant work runs. */
  | 'tenant_unavailable'
  /** The unit's agent actor is unknown in the tenant, terminated or deleted: it may not act. */
  | 'actor_unavailable'
  /** Approvals are decided by a human owner, admin or manager of the tenant only. */
  | 'approver_required'
  /** Task comments and attachments: only the author (or uploader) edits or, with owners and admins, deletes. */
  | 'not_author';

/** The actor may not do this, or the database's row-level security refused the row. */
export class ForbiddenError extends AgentflowError {
  readonly code: ForbiddenCode;
  constructor(code: ForbiddenCode, message: string, options: Omit<AgentflowErrorOptions, 'retryable'> = {}) {
    super(message, options);
    this.code = code;
  }
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

export type AuthenticationCode =
  /** Malformed, unknown, or its secret does not match: indistinguishable on purpose. */
  | 'invalid_key'
  | 'key_revoked'
  | 'key_expired'
  /** The key's agent is terminated or deleted. */
  | 'agent_unavailable'
  /** The key's tenant is suspended or deleted. */
  | 'tenant_unavailable'
  /** Too many failed attempts from this client or for this key: retry after `retryAfterMs`. */
  | 'rate_limited'
  /** No credential was presented (HTTP: no `Authorization: Bearer …`). */
  | 'missing_credentials'
  /** A login session token that is unknown, expired or logged out. */
  | 'invalid_session'
  /** A login refused: unknown email, wrong password, not a member, unknown or suspended tenant alike. */
  | 'invalid_credentials';

/** A presented credential (an agent's API key, a login session, a login's password) was refused: HTTP 401 (429 for `rate_limited`). */
export class AuthenticationError extends AgentflowError {
  readonly code: AuthenticationCode;
  /** For `rate_limited`: milliseconds until an attempt may pass. */
  readonly retryAfterMs: number | undefined;
  constructor(
    code: AuthenticationCode,
    message: string,
    options: Omit<AgentflowErrorOptions, 'retryable'> & { retryAfterMs?: number } = {},
  ) {
    super(message, { ...options, retryable: code === 'rate_limited' });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }
}
