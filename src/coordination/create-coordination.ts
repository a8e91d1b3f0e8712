import type { Coordination } from './coordination.ts';
import { createMemoryCoordination } from './memory/memory-coordination.ts';
import {
  type CommonCoordinationOptions,
  factoryOptionsSchema,
  parseOptions,
  type RedisConnectionTuning,
} from './options.ts';
import { createRedisCoordination } from './redis/redis-coordination.ts';

export interface CoordinationOptions extends CommonCoordinationOptions, RedisConnectionTuning {
  /** Redis to use; default `process.env.REDIS_URL`. Without either, the memory adapter is used. */
  redisUrl?: string;
}

/**
 * The Redis adapter when a Redis URL is given (or REDIS_URL is set), the in-process memory
 * adapter otherwise. Options are validated in both cases, so a typo fails the same way
 * whichever adapter the environment selects.
 */
export async function createCoordination(options: CoordinationOptions = {}): Promise<Coordination> {
  const { redisUrl, ...rest } = options;
  const url = redisUrl ?? (process.env.REDIS_URL || undefined);
  if (url !== undefined) return createRedisCoordination({ ...rest, url });
  // Checked although unused here, so that a bad option fails whatever the environment.
  parseOptions(factoryOptionsSchema, options);
  const { prefix, sessionTtlMs, onError } = options;
  return createMemoryCoordination({ prefix, sessionTtlMs, onError });
}
