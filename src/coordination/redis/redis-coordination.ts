import { type Coordination, StoreCoordination } from '../coordination.ts';
import { MemoryRateLimitStore } from '../memory/memory-rate-limit-store.ts';
import { parseOptions, type RedisCoordinationOptions, redisOptionsSchema } from '../options.ts';
import { redisKeys } from './keys.ts';
import { RedisCacheStore } from './redis-cache-store.ts';
import { type CoordinationRedisClient, RedisConnection } from './redis-connection.ts';
import { RedisLockBackend } from './redis-lock-backend.ts';
import { RedisPubSubTransport } from './redis-pubsub-transport.ts';
import { RedisRateLimitStore } from './redis-rate-limit-store.ts';
import { RedisSessionBackend } from './redis-session-backend.ts';

export interface RedisCoordination extends Coordination {
  readonly backend: 'redis';
  /** The node-redis command client, for what this API does not cover. Keys you write are yours to namespace. */
  readonly client: CoordinationRedisClient;
}

class RedisStoreCoordination extends StoreCoordination implements RedisCoordination {
  declare readonly backend: 'redis';
  readonly #connection: RedisConnection;

  constructor(parts: ConstructorParameters<typeof StoreCoordination>[0], connection: RedisConnection) {
    super(parts);
    this.#connection = connection;
  }

  get client(): CoordinationRedisClient {
    return this.#connection.client;
  }
}

/**
 * The production adapter: state in Redis (7 or newer, standalone or Sentinel), shared by every
 * process. Rejects with CoordinationUnavailableError if Redis cannot be reached within
 * connectTimeoutMs — a wrong URL should stop the boot, not surface on the first request.
 */
export async function createRedisCoordination(options: RedisCoordinationOptions): Promise<RedisCoordination> {
  const settings = parseOptions(redisOptionsSchema, options);
  const report = settings.onError;
  const connection = await RedisConnection.open({ ...settings, report });
  const keys = redisKeys(settings.prefix);
  const pubsub = new RedisPubSubTransport(connection, keys.channel, settings.commandTimeoutMs, report);
  return new RedisStoreCoordination(
    {
      backend: 'redis',
      cacheStore: new RedisCacheStore(connection, keys.cache, keys.cacheTag),
      rateLimitStore: new RedisRateLimitStore(connection, keys.rateLimit),
      localRateLimitStore: new MemoryRateLimitStore(),
      sessionBackend: new RedisSessionBackend(connection, keys.session, keys.sessionsOfUser),
      lockBackend: new RedisLockBackend(connection, keys.lock, keys.fencingCounter),
      pubsubTransport: pubsub,
      sessionTtlMs: settings.sessionTtlMs,
      report,
      ping: () => connection.ping(),
      close: async () => {
        await pubsub.close();
        await connection.close();
      },
    },
    connection,
  );
}
