import { type GcraDecision, type GcraRate, type GcraTime, gcraAdvance, gcraDecision } from '../gcra.ts';
import type { RateLimitStore } from '../rate-limiter.ts';
import { ExpiringMap } from './expiring-map.ts';

/** Microseconds on a clock that never goes back (wall-clock jumps do not refill budgets). */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** GCRA state of one process: the memory adapter's limiter and the Redis adapter's fallback. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #tats = new ExpiringMap<GcraTime>();

  async consume(key: string, cost: number, rate: GcraRate): Promise<GcraDecision> {
    const { outcome, tat } = gcraAdvance(this.#tats.get(key), nowUs(), cost, rate);
    const decision = gcraDecision(outcome, cost, rate);
    // Kept until the budget is full again (the TAT is then in the past, the same as no TAT).
    if (tat !== undefined) this.#tats.set(key, tat, Date.now() + decision.resetAfterMs);
    return decision;
  }

  async reset(key: string): Promise<void> {
    this.#tats.delete(key);
  }
}
