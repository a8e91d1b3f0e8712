/**
 * GCRA (generic cell rate algorithm), the rate limiter's algorithm: each key keeps one number,
 * its theoretical arrival time (TAT). A unit of cost moves the TAT one emission interval
 * (window / limit) into the future; a request passes while the TAT it would create is at most
 * one window ahead of now. That is a sliding window with a burst of `limit`, exact at every
 * instant (no fixed-window boundary letting 2× through), in O(1) state per key.
 *
 * Times are integer microseconds. The decision (gcraAdvance) must be atomic with the read and
 * write of the TAT: the Redis adapter runs it in Lua (redis/scripts.ts), the memory adapter
 * here. Everything derived from its outcome (gcraDecision) is computed here for both.
 */
export interface GcraDecision {
  allowed: boolean;
  /** Unit-cost requests that would pass right now (after this one, when allowed). */
  remaining: number;
  /** 0 when allowed; otherwise how long until this cost would pass. */
  retryAfterMs: number;
  /** How long until the full limit is available again. */
  resetAfterMs: number;
}

export interface GcraOutcome {
  allowed: boolean;
  /** How far the key's TAT is ahead of now once decided (µs, ≥ 0). */
  aheadUs: number;
}

function intervalUs(limit: number, windowMs: number): number {
  return (windowMs * 1000) / limit;
}

/** The atomic step: the outcome, and the TAT to store (undefined when nothing changes). */
export function gcraAdvance(
  storedTat: number | undefined,
  nowUs: number,
  cost: number,
  limit: number,
  windowMs: number,
): { outcome: GcraOutcome; tat: number | undefined } {
  const tat = storedTat !== undefined && storedTat > nowUs ? storedTat : nowUs;
  const newTat = Math.floor(tat + cost * intervalUs(limit, windowMs) + 0.5);
  if (newTat - windowMs * 1000 > nowUs)
    return { outcome: { allowed: false, aheadUs: tat - nowUs }, tat: undefined };
  return { outcome: { allowed: true, aheadUs: newTat - nowUs }, tat: newTat > tat ? newTat : undefined };
}

export function gcraDecision(
  { allowed, aheadUs }: GcraOutcome,
  cost: number,
  limit: number,
  windowMs: number,
) {
  const interval = intervalUs(limit, windowMs);
  const windowUs = windowMs * 1000;
  const retryAfterUs = allowed ? 0 : Math.floor(aheadUs + cost * interval + 0.5) - windowUs;
  return {
    allowed,
    remaining: Math.floor((windowUs - aheadUs) / interval),
    retryAfterMs: Math.ceil(retryAfterUs / 1000),
    resetAfterMs: Math.ceil(aheadUs / 1000),
  } satisfies GcraDecision;
}
