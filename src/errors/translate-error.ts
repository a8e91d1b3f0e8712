import { AgentflowError } from './agentflow-error.ts';
import { DatabaseError } from './database-error.ts';
import { ConflictError, ForbiddenError, ValidationError } from './domain-errors.ts';

interface DriverErrorShape {
  message?: string;
  code?: string;
  detail?: string;
  // postgres.js names
  constraint_name?: string;
  table_name?: string;
  column_name?: string;
  // PGlite (pg-protocol) names
  constraint?: string;
  table?: string;
  column?: string;
  // drizzle's DrizzleQueryError
  query?: string;
  params?: unknown[];
  cause?: unknown;
}

function asShape(error: unknown): DriverErrorShape {
  return typeof error === 'object' && error !== null ? (error as DriverErrorShape) : {};
}

/** Normalises any driver or Drizzle error into a DatabaseError; AgentflowErrors pass through. */
export function toDatabaseError(error: unknown, query?: string, params?: readonly unknown[]): AgentflowError {
  if (error instanceof AgentflowError) return error;
  let driverError = error;
  let sqlQuery = query;
  let sqlParams = params;
  const outer = asShape(error);
  // Drizzle wraps the driver error: keep its query and params, read the SQLSTATE from the cause.
  if (outer.query !== undefined && outer.cause !== undefined) {
    if (outer.cause instanceof AgentflowError) return outer.cause;
    driverError = outer.cause;
    sqlQuery = outer.query;
    sqlParams = outer.params;
  }
  const shape = asShape(driverError);
  return new DatabaseError(
    shape.message ?? String(driverError),
    {
      sqlState: typeof shape.code === 'string' ? shape.code : undefined,
      query: sqlQuery,
      params: sqlParams,
      constraint: shape.constraint_name ?? shape.constraint,
      table: shape.table_name ?? shape.table,
      column: shape.column_name ?? shape.column,
      detail: shape.detail,
    },
    { cause: driverError },
  );
}

/** True for errors raised by a driver (they carry a SQLSTATE or driver code) or wrapped by Drizzle. */
function isDriverError(error: unknown): boolean {
  const shape = asShape(error);
  return (shape.query !== undefined && shape.cause !== undefined) || typeof shape.code === 'string';
}

/**
 * Maps a database failure to the domain error a caller can act on. The DatabaseError stays
 * reachable as `cause`, so nothing about the failed statement is lost. Errors that did not come
 * from the database (a bug in a callback, say) pass through untouched.
 */
export function translateError(error: unknown): unknown {
  if (!(error instanceof AgentflowError) && !isDriverError(error)) return error;
  const dbError = toDatabaseError(error);
  if (!(dbError instanceof DatabaseError)) return dbError;
  const where = dbError.constraint ? ` (${dbError.constraint})` : '';
  switch (dbError.kind) {
    case 'unique_violation':
      return new ConflictError(`already exists${where}`, { cause: dbError });
    case 'foreign_key_violation':
      // On delete the referencing rows are the problem; on insert/update the referenced row is missing.
      // PostgreSQL says "still referenced" only in the DETAIL; the message names the delete side.
      return /still referenced/.test(dbError.detail ?? '') ||
        dbError.message.startsWith('update or delete on table')
        ? new ConflictError(`still referenced by other rows${where}`, { cause: dbError })
        : new ValidationError(`references a row that does not exist in this tenant${where}`, [], {
            cause: dbError,
          });
    case 'check_violation':
    case 'not_null_violation':
    case 'exclusion_violation':
    case 'invalid_text_representation':
    case 'string_data_right_truncation':
    case 'numeric_value_out_of_range':
      // The database names the column when it knows it (NOT NULL, a trigger's RAISE … COLUMN).
      return new ValidationError(
        `${dbError.message}${where}`,
        dbError.column ? [{ path: dbError.column, message: dbError.message }] : [],
        { cause: dbError },
      );
    case 'insufficient_privilege':
    case 'read_only_transaction':
    case 'quota_exceeded':
    case 'tenant_unavailable':
      return new ForbiddenError(dbError.message, { cause: dbError });
    case 'usage_underflow':
      return new ConflictError(dbError.message, { cause: dbError });
    case 'serialization_failure':
    case 'deadlock_detected':
      return new ConflictError(`concurrent update, retry: ${dbError.message}`, { cause: dbError });
    default:
      return dbError;
  }
}
