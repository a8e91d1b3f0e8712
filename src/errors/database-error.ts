import { AgentflowError } from './agentflow-error.ts';

/** The families of SQLSTATE the library reacts to; everything else is `other`. */
export type SqlStateKind =
  | 'unique_violation'
  | 'foreign_key_violation'
  | 'check_violation'
  | 'not_null_violation'
  | 'exclusion_violation'
  | 'invalid_text_representation'
  | 'string_data_right_truncation'
  | 'numeric_value_out_of_range'
  | 'insufficient_privilege'
  | 'serialization_failure'
  | 'deadlock_detected'
  | 'lock_not_available'
  | 'raise_exception'
  | 'connection_failure'
  | 'read_only_transaction'
  | 'quota_exceeded'
  | 'usage_underflow'
  | 'tenant_unavailable'
  | 'other';

const KIND_BY_SQLSTATE: Readonly<Record<string, SqlStateKind>> = {
  '23505': 'unique_violation',
  '23503': 'foreign_key_violation',
  '23514': 'check_violation',
  '23502': 'not_null_violation',
  '23P01': 'exclusion_violation',
  '22P02': 'invalid_text_representation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '42501': 'insufficient_privilege',
  '25006': 'read_only_transaction',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '55P03': 'lock_not_available',
  P0001: 'raise_exception',
  '08000': 'connection_failure',
  '08003': 'connection_failure',
  '08006': 'connection_failure',
  '57P01': 'connection_failure',
  // Raised by agentflow.add_usage().
  AF001: 'quota_exceeded',
  AF002: 'usage_underflow',
  // Raised by agentflow.require_usable_tenant() in a unit of work's set-up.
  AF003: 'tenant_unavailable',
};

export function sqlStateKind(sqlState: string | undefined): SqlStateKind {
  return (sqlState && KIND_BY_SQLSTATE[sqlState]) || 'other';
}

/** Failures caused by concurrent transactions rather than by the statement: a new attempt may pass. */
const RETRYABLE_KINDS: ReadonlySet<SqlStateKind> = new Set([
  'serialization_failure',
  'deadlock_detected',
  'lock_not_available',
]);

export interface DatabaseErrorDetails {
  sqlState: string | undefined;
  query: string | undefined;
  params: readonly unknown[] | undefined;
  constraint: string | undefined;
  table: string | undefined;
  column: string | undefined;
  detail: string | undefined;
}

/**
 * One error type for every failed statement, whichever engine ran it: keeps the query, its
 * parameters (secrets replaced by `[redacted]`), the driver's error as `cause`, and the SQLSTATE
 * family as `kind`.
 */
export class DatabaseError extends AgentflowError {
  readonly code = 'database_error';
  readonly kind: SqlStateKind;
  readonly sqlState: string | undefined;
  readonly query: string | undefined;
  readonly params: readonly unknown[] | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly detail: string | undefined;

  constructor(message: string, details: DatabaseErrorDetails, options?: { cause?: unknown }) {
    const kind = sqlStateKind(details.sqlState);
    super(message, { ...options, retryable: RETRYABLE_KINDS.has(kind) });
    this.kind = kind;
    this.sqlState = details.sqlState;
    this.query = details.query;
    this.params = details.params;
    this.constraint = details.constraint;
    this.table = details.table;
    this.column = details.column;
    this.detail = details.detail;
  }
}
