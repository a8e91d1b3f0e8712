import { type Cache, type CacheStore, CoordinationCache } from './cache.ts';
import { CoordinationLockManager, type LockBackend, type LockManager } from './locks.ts';
import { CoordinationPubSub, type PubSub, type PubSubTransport } from './pubsub.ts';
import {
  CoordinationRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitStore,
} from './rate-limiter.ts';
import type { ErrorReporter } from './report-error.ts';
import { CoordinationSessionStore, type SessionBackend, type SessionStore } from './sessions.ts';

/**
 * Cache, rate limiting, login sessions, locks and pub/sub, on Redis (many processes) or in
 * memory (one process). Both adapters pass the same contract tests; they differ in reach and in
 * failure behaviour only (the memory adapter cannot be unreachable).
 */
export interface Coordination {
  readonly backend: 'redis' | 'memory';
  readonly cache: Cache;
  readonly sessions: SessionStore;
  readonly locks: LockManager;
  readonly pubsub: PubSub;
  /** A limiter with its own name, limit and window; cheap to create. */
  rateLimiter(options: RateLimiterOptions): RateLimiter;
  /** Resolves when the store answers; throws CoordinationUnavailableError otherwise. For health checks. */
  ping(): Promise<void>;
  /** Stops timers and closes connections. Locks still held expire after their TTL. */
  close(): Promise<void>;
}

/** What an adapter provides; the features on top are shared. */
export interface CoordinationParts {
  backend: Coordination['backend'];
  cacheStore: CacheStore;
  rateLimitStore: RateLimitStore;
  /** In-process store for rate limiters whose policy is `local` while the shared one is down. */
  localRateLimitStore: RateLimitStore;
  sessionBackend: SessionBackend;
  lockBackend: LockBackend;
  pubsubTransport: PubSubTransport;
  sessionTtlMs: number;
  report: ErrorReporter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreCoordination implements Coordination {
  readonly backend: Coordination['backend'];
  readonly cache: Cache;
  readonly sessions: SessionStore;
  readonly locks: LockManager;
  readonly pubsub: PubSub;
  readonly #parts: CoordinationParts;
  readonly #locks: CoordinationLockManager;
  #closed: Promise<void> | undefined;

  constructor(parts: CoordinationParts) {
    this.#parts = parts;
    this.backend = parts.backend;
    this.cache = new CoordinationCache(parts.cacheStore, parts.report);
    this.sessions = new CoordinationSessionStore(parts.sessionBackend, parts.sessionTtlMs);
    this.#locks = new CoordinationLockManager(parts.lockBackend, parts.report);
    this.locks = this.#locks;
    this.pubsub = new CoordinationPubSub(parts.pubsubTransport, parts.report);
  }

  rateLimiter(options: RateLimiterOptions): RateLimiter {
    const { rateLimitStore, localRateLimitStore, report } = this.#parts;
    return new CoordinationRateLimiter(options, rateLimitStore, localRateLimitStore, report);
  }

  ping(): Promise<void> {
    return this.#parts.ping();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#locks.close();
      await this.#parts.close();
    })();
    return this.#closed;
  }
}
