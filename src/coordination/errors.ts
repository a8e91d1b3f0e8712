import { AgentflowError } from '../errors/index.ts';

/**
 * The shared store (Redis) could not be reached or did not answer in time. Features that fail
 * closed (locks, sessions, pub/sub, cache invalidation) throw it; the cache swallows it and
 * reports it to `onError` instead.
 */
export class CoordinationUnavailableError extends AgentflowError {
  readonly code = 'coordination_unavailable';
}

/** `acquire` gave up: another holder kept the lock for the whole wait. */
export class LockNotAcquiredError extends AgentflowError {
  readonly code = 'lock_not_acquired';
  constructor(
    readonly lockName: string,
    readonly waitedMs: number,
  ) {
    super(`lock "${lockName}" is held by someone else (waited ${waitedMs} ms)`);
  }
}

/**
 * The lock expired or was taken over while its holder still worked (auto-extend failed or
 * was too late). It is the reason of `lock.signal` and what `withLock` throws afterwards.
 */
export class LockLostError extends AgentflowError {
  readonly code = 'lock_lost';
  constructor(
    readonly lockName: string,
    options?: { cause?: unknown },
  ) {
    super(`lock "${lockName}" was lost before its holder finished`, options);
  }
}
