import type { GcraDecision } from '../gcra.ts';
import type { RateLimitStore } from '../rate-limiter.ts';
import type { RedisConnection } from './redis-connection.ts';
import type { GcraRequest } from './scripts.ts';
import { rethrowUnavailable, unavailable } from './unavailable.ts';

const unlinkFailed = rethrowUnavailable('UNLINK');

/**
 * Bounds one script run (a burst must not hold the server for long) and lets several batches
 * be in flight, so that Redis runs one while this process prepares the next.
 */
const MAX_BATCH = 64;

interface PendingConsume extends GcraRequest {
  resolve(decision: GcraDecision): void;
  reject(error: unknown): void;
}

/**
 * Every consume is decided by the GCRA script, atomically, in one round trip. The consumes
 * issued in the same tick share one EVALSHA (the script loops over them in order): a script
 * call costs Redis several times a GET, so one per consume would make the rate limiter, not
 * the network, the bottleneck under load. Latency is unchanged: node-redis writes once per tick
 * anyway.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  #pending: PendingConsume[] = [];

  constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  consume(key: string, cost: number, limit: number, windowMs: number): Promise<GcraDecision> {
    return new Promise((resolve, reject) => {
      // nextTick runs once this tick's promise continuations are done: they join the batch.
      if (this.#pending.length === 0) process.nextTick(this.#flush);
      this.#pending.push({ key: this.#prefix + key, cost, limit, windowMs, resolve, reject });
      if (this.#pending.length >= MAX_BATCH) this.#flush();
    });
  }

  async reset(key: string): Promise<void> {
    await this.#connection.client.unlink(this.#prefix + key).catch(unlinkFailed);
  }

  readonly #flush = (): void => {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#connection.client.gcraBatch(batch).then(
      (decisions) => {
        batch.forEach((request, i) => {
          request.resolve(decisions[i] as GcraDecision);
        });
      },
      (error: unknown) => {
        const failure = unavailable('rate limit script', error);
        for (const request of batch) request.reject(failure);
      },
    );
  };
}
