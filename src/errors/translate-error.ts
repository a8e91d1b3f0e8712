import { AgentflowError } from './agentflow-error.ts';
import { DatabaseError } from './database-error.ts';
import { mapDatabaseError } from './error-mapping.ts';
import { redactDriverError, redactParams, scrubText } from './redact.ts';

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

/**
 * Normalises any driver or Drizzle error into a DatabaseError; AgentflowErrors pass through. Secret
 * parameters (src/shared/secret.ts) are redacted in it and in the driver's error it keeps.
 */
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
  // Drizzle's own error, dropped here, spells its parameters out in its message.
  const { params: redactedParams, secrets } = redactParams(sqlParams);
  const cause = redactDriverError(driverError, secrets);
  const shape = asShape(cause);
  return new DatabaseError(
    scrubText(shape.message ?? String(cause), secrets),
    {
      sqlState: typeof shape.code === 'string' ? shape.code : undefined,
      query: sqlQuery,
      params: redactedParams,
      constraint: shape.constraint_name ?? shape.constraint,
      table: shape.table_name ?? shape.table,
      column: shape.column_name ?? shape.column,
      detail: scrubText(shape.detail, secrets),
    },
    { cause },
  );
}

/** True for errors raised by a driver (they carry a SQLSTATE or driver code) or wrapped by Drizzle. */
function isDriverError(error: unknown): boolean {
  const shape = asShape(error);
  return (shape.query !== undefined && shape.cause !== undefined) || typeof shape.code === 'string';
}

/**
 * Maps a database failure to the domain error a caller can act on, through the table of
 * error-mapping.ts. The DatabaseError stays reachable as `cause`, so nothing about the failed
 * statement is lost. Errors that did not come from the database (a bug in a callback, say) pass
 * through untouched.
 */
export function translateError(error: unknown): unknown {
  if (!(error instanceof AgentflowError) && !isDriverError(error)) return error;
  const dbError = toDatabaseError(error);
  return dbError instanceof DatabaseError ? mapDatabaseError(dbError) : dbError;
}
