import type { GcraDecision } from '../gcra.ts';
import type { RateLimitStore } from '../rate-limiter.ts';
import type { RedisConnection } from './redis-connection.ts';
import { rethrowUnavailable } from './unavailable.ts';

const consumeFailed = rethrowUnavailable('rate limit script');
const unlinkFailed = rethrowUnavailable('UNLINK');

export class RedisRateLimitStore implements RateLimitStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;

  constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  // One EVALSHA per call: the read, the decision and the write are atomic on the server.
  consume(key: string, cost: number, limit: number, windowMs: number): Promise<GcraDecision> {
    return this.#connection.client.gcra(this.#prefix + key, cost, limit, windowMs).catch(consumeFailed);
  }

  async reset(key: string): Promise<void> {
    await this.#connection.client.unlink(this.#prefix + key).catch(unlinkFailed);
  }
}
