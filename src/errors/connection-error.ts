import { AgentflowError } from './agentflow-error.ts';

/**
 * The connection to the database was lost (the server closed it, restarted, or could not be
 * reached): the work did not fail, the link did, so the unit can be run again. When
 * `commitOutcomeUnknown` is false the unit's transaction was not committed (the server rolls back
 * a transaction whose connection ends). When it is true, COMMIT had been sent and no answer came:
 * the unit may or may not have been committed, so retry it only if it is idempotent, or look first.
 */
export class ConnectionError extends AgentflowError {
  readonly code = 'connection_lost';
  override readonly retryable = true;
  readonly commitOutcomeUnknown: boolean;

  constructor(message: string, options: { cause?: unknown; commitOutcomeUnknown?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.commitOutcomeUnknown = options.commitOutcomeUnknown ?? false;
  }
}

/** postgres.js's own codes for a connection that closed, timed out or was refused. */
const DRIVER_CODES = new Set(['CONNECTION_CLOSED', 'CONNECT_TIMEOUT']);
/** Socket failures reported by Node. */
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/**
 * SQLSTATEs of a connection that failed or that the server ended (admin or crash shutdown, starting
 * up); not 08P01, a protocol violation such as a start-up parameter a pooler refuses.
 */
const SESSION_ENDING_SQLSTATES = new Set(['08000', '08001', '08003', '08006', '57P01', '57P02', '57P03']);

/** True for a driver error that means the connection is gone, not that a statement failed. */
export function isConnectionLoss(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return (
    typeof code === 'string' &&
    (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SESSION_ENDING_SQLSTATES.has(code))
  );
}
