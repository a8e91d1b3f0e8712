import { type GcraDecision, gcraAdvance, gcraDecision } from '../gcra.ts';
import type { RateLimitStore } from '../rate-limiter.ts';
import { ExpiringMap } from './expiring-map.ts';

/** Microseconds on a clock that never goes back (wall-clock jumps do not refill budgets). */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** GCRA state of one process: the memory adapter's limiter and the Redis adapter's fallback. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #tats = new ExpiringMap<number>();

  async consume(key: string, cost: number, limit: number, windowMs: number): Promise<GcraDecision> {
    const now = nowUs();
    const { outcome, tat } = gcraAdvance(this.#tats.get(key), now, cost, limit, windowMs);
    if (tat !== undefined) this.#tats.set(key, tat, Date.now() + Math.ceil((tat - now) / 1000));
    return gcraDecision(outcome, cost, limit, windowMs);
  }

  async reset(key: string): Promise<void> {
    this.#tats.delete(key);
  }
}
