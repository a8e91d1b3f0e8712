import { CoordinationUnavailableError } from '../errors.ts';

/**
 * Wraps whatever node-redis threw (offline, closed, timed out, connection reset, or an error
 * reply) into the one error callers handle; the original stays as `cause`.
 */
export function unavailable(operation: string, error: unknown): CoordinationUnavailableError {
  if (error instanceof CoordinationUnavailableError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CoordinationUnavailableError(`Redis ${operation} failed (${reason})`, { cause: error });
}

/** A rejection handler per operation, created once so the hot path allocates no closure. */
export function rethrowUnavailable(operation: string): (error: unknown) => never {
  return (error) => {
    throw unavailable(operation, error);
  };
}
