export type { Cache, CachedOptions, CacheSetOptions, CacheTtl } from './cache.ts';
export type { Coordination } from './coordination.ts';
export { type CoordinationOptions, createCoordination } from './create-coordination.ts';
export { CoordinationUnavailableError, LockLostError, LockNotAcquiredError } from './errors.ts';
export type { GcraDecision } from './gcra.ts';
export type { Lock, LockManager, LockOptions } from './locks.ts';
export { createMemoryCoordination } from './memory/memory-coordination.ts';
export type {
  CommonCoordinationOptions,
  RedisConnectionTuning,
  RedisCoordinationOptions,
} from './options.ts';
export type { MessageListener, PubSub, Subscription } from './pubsub.ts';
export type { RateLimiter, RateLimiterOptions, RateLimitPolicy, RateLimitResult } from './rate-limiter.ts';
export type { CoordinationRedisClient } from './redis/redis-connection.ts';
export { createRedisCoordination, type RedisCoordination } from './redis/redis-coordination.ts';
export type { ErrorReporter } from './report-error.ts';
export type { CreatedSession, Session, SessionStore } from './sessions.ts';
