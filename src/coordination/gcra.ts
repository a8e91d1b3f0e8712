/**
 * GCRA (generic cell rate algorithm), the rate limiter's algorithm: each key keeps one number,
 * its theoretical arrival time (TAT). A unit of cost moves the TAT one emission interval
 * (window / limit) into the future; a request passes while the TAT it would create is at most
 * one window ahead of now. That is a sliding window with a burst of `limit`, exact at every
 * instant (no fixed-window boundary letting 2× through), in O(1) state per key.
 *
 * Times are integer microseconds. The Redis adapter runs the same arithmetic in Lua
 * (redis/scripts.ts); this copy serves the memory adapter and the Redis fallback.
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

export interface GcraStep {
  decision: GcraDecision;
  /** The TAT to store, or undefined when nothing changes (denied, or a cost of 0). */
  tat: number | undefined;
}

export function gcraStep(
  storedTat: number | undefined,
  nowUs: number,
  cost: number,
  limit: number,
  windowMs: number,
): GcraStep {
  const windowUs = windowMs * 1000;
  const interval = windowUs / limit;
  const tat = storedTat !== undefined && storedTat > nowUs ? storedTat : nowUs;
  const newTat = Math.floor(tat + cost * interval + 0.5);
  const allowAt = newTat - windowUs;
  if (nowUs < allowAt) {
    return {
      decision: {
        allowed: false,
        remaining: Math.floor((nowUs + windowUs - tat) / interval),
        retryAfterMs: Math.ceil((allowAt - nowUs) / 1000),
        resetAfterMs: Math.ceil((tat - nowUs) / 1000),
      },
      tat: undefined,
    };
  }
  return {
    decision: {
      allowed: true,
      remaining: Math.floor((nowUs + windowUs - newTat) / interval),
      retryAfterMs: 0,
      resetAfterMs: Math.ceil((newTat - nowUs) / 1000),
    },
    tat: cost > 0 ? newTat : undefined,
  };
}
