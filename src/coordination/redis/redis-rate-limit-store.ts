import { type GcraDecision, type GcraRate, gcraDecision } from '../gcra.ts';
import type { RateLimitStore } from '../rate-limiter.ts';
import type { RedisConnection } from './redis-connection.ts';
import { rethrowUnavailable, unavailable } from './unavailable.ts';

const unlinkFailed = rethrowUnavailable('UNLINK');

/**
 * Bounds one script run (a burst must not hold the server for long) and lets several batches
 * be in flight, so that Redis runs one while this process prepares the next.
 */
const MAX_BATCH = 64;

interface PendingConsume {
  key: string;
  cost: number;
  resolve(decision: GcraDecision): void;
  reject(error: unknown): void;
}

interface Batch {
  rate: GcraRate;
  consumes: PendingConsume[];
}

/**
 * Every consume is decided by the GCRA script, atomically, in one round trip. The consumes
 * issued in the same tick for the same rate (limit and window) share one EVALSHA (the script loops
 * over them in order): a script call costs Redis several times a GET, so one per consume made
 * the rate limiter, not the network, the bottleneck under load. Latency is unchanged: node-redis
 * writes once per tick anyway.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  /** This tick's consumes, by rate. */
  #batches = new Map<string, Batch>();

  constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  consume(key: string, cost: number, rate: GcraRate): Promise<GcraDecision> {
    return new Promise((resolve, reject) => {
      // nextTick runs once this tick's promise continuations are done: they join the batch.
      if (this.#batches.size === 0) process.nextTick(this.#flush);
      let batch = this.#batches.get(rate.id);
      if (!batch) {
        batch = { rate, consumes: [] };
        this.#batches.set(rate.id, batch);
      }
      batch.consumes.push({ key: this.#prefix + key, cost, resolve, reject });
      if (batch.consumes.length >= MAX_BATCH) {
        this.#batches.delete(rate.id);
        this.#send(batch);
      }
    });
  }

  async reset(key: string): Promise<void> {
    await this.#connection.client.unlink(this.#prefix + key).catch(unlinkFailed);
  }

  readonly #flush = (): void => {
    const batches = this.#batches;
    this.#batches = new Map();
    for (const batch of batches.values()) this.#send(batch);
  };

  #send({ rate, consumes }: Batch): void {
    const keys = consumes.map((consume) => consume.key);
    // Costs of 1 (nearly all) are the script's default: no argument to send for them.
    const costs = consumes.some((consume) => consume.cost !== 1)
      ? consumes.map((consume) => String(consume.cost))
      : [];
    this.#connection.client.gcraBatch(keys, costs, rate).then(
      (outcomes) => {
        consumes.forEach((consume, i) => {
          const outcome = outcomes[i];
          if (outcome) consume.resolve(gcraDecision(outcome, consume.cost, rate));
          else consume.reject(unavailable('rate limit script', 'missing outcome'));
        });
      },
      (error: unknown) => {
        const failure = unavailable('rate limit script', error);
        for (const consume of consumes) consume.reject(failure);
      },
    );
  }
}
