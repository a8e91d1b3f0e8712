import { describe, expect, it } from 'vitest';
import {
  type GcraTime,
  gcraAdvance,
  gcraDecision,
  gcraRate,
  isExactRate,
  MAX_WINDOW_MS,
} from '../../src/coordination/gcra.ts';

/** What a store does: the atomic step, then the derived numbers. */
function gcraStep(
  stored: GcraTime | undefined,
  nowUs: number,
  cost: number,
  limit: number,
  windowMs: number,
) {
  const rate = gcraRate(limit, windowMs);
  const { outcome, tat } = gcraAdvance(stored, nowUs, cost, rate);
  return { decision: gcraDecision(outcome, cost, rate), tat };
}

/** Drives gcraStep like a store would, on a virtual clock (milliseconds from a realistic epoch time). */
function limiter(limit: number, windowMs: number) {
  const epochUs = 1_764_000_000_000_000;
  let tat: GcraTime | undefined;
  return (atMs: number, cost = 1) => {
    const step = gcraStep(tat, epochUs + atMs * 1000, cost, limit, windowMs);
    if (step.tat !== undefined) tat = step.tat;
    return step.decision;
  };
}

describe('GCRA', () => {
  it('allows a burst of exactly `limit`, then one per emission interval', () => {
    const consume = limiter(10, 1000);
    const burst = Array.from({ length: 15 }, () => consume(0));
    expect(burst.filter((decision) => decision.allowed)).toHaveLength(10);
    expect(burst[9]).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 1000 });
    expect(burst[10]).toEqual({ allowed: false, remaining: 0, retryAfterMs: 100, resetAfterMs: 1000 });
    expect(consume(99).allowed).toBe(false);
    expect(consume(100).allowed).toBe(true);
    expect(consume(100).allowed).toBe(false);
  });

  it('half a window after exhaustion, half the budget is back (no window reset)', () => {
    const consume = limiter(10, 1000);
    for (let i = 0; i < 10; i++) consume(0);
    const later = Array.from({ length: 10 }, () => consume(500));
    expect(later.filter((decision) => decision.allowed)).toHaveLength(5);
  });

  it('never lets a fixed window boundary double the rate: steady hammering gets limit per window', () => {
    const consume = limiter(10, 100);
    let allowed = 0;
    let allowedInLastInterval = 0;
    for (let ms = 0; ms < 1000; ms++) {
      const ok = consume(ms).allowed;
      if (ok) allowed += 1;
      // After the initial burst, at most one unit per 10 ms interval.
      if (ms >= 100 && ms % 10 === 0) allowedInLastInterval = 0;
      if (ms >= 100 && ok) allowedInLastInterval += 1;
      expect(allowedInLastInterval).toBeLessThanOrEqual(1);
    }
    // The burst of 10, then 10 per 100 ms for the remaining 990 ms.
    expect(allowed).toBe(10 + 99);
  });

  it('counts costs and peeks with a cost of 0 without changing state', () => {
    let tat: GcraTime | undefined;
    const step = gcraStep(tat, 0, 4, 10, 1000);
    tat = step.tat;
    expect(step.decision).toMatchObject({ allowed: true, remaining: 6 });
    const peek = gcraStep(tat, 0, 0, 10, 1000);
    expect(peek).toEqual({
      decision: { allowed: true, remaining: 6, retryAfterMs: 0, resetAfterMs: 400 },
      tat: undefined,
    });
    const tooMuch = gcraStep(tat, 0, 7, 10, 1000);
    expect(tooMuch.decision).toMatchObject({ allowed: false, remaining: 6, retryAfterMs: 100 });
    expect(tooMuch.tat).toBeUndefined();
  });

  it('keeps exact counts when the emission interval is not a whole number of microseconds', () => {
    const consume = limiter(3, 1);
    expect([consume(0), consume(0), consume(0), consume(0)].map((decision) => decision.allowed)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  // Before: each unit moved the TAT by the interval rounded to whole microseconds (3 µs for
  // 300,000 per second), so 333,333 passed in one window.
  it.each([
    [1, 1000],
    [7, 1000],
    [1000, 1000],
    [300_000, 1000],
    [400_000, 1000],
    [1_000_000, 1000],
    [1_000_000, 1],
    [7, 60_000],
    [300_000, 60_000],
    [999_983, 3_600_000],
    [123_457, 86_400_000],
  ])(
    'lets exactly %i unit requests through per %i ms window, one window after another',
    (limit, windowMs) => {
      const consume = limiter(limit, windowMs);
      for (const atMs of [0, windowMs, 2 * windowMs]) {
        let allowed = 0;
        for (let i = 0; i < limit + 3; i++) if (consume(atMs).allowed) allowed += 1;
        expect(allowed).toBe(limit);
      }
    },
  );

  it('reports remaining, retryAfterMs and resetAfterMs exactly when the interval is fractional', () => {
    // 300,000 per second: an interval of 10/3 µs.
    const consume = limiter(300_000, 1000);
    expect(consume(0)).toEqual({ allowed: true, remaining: 299_999, retryAfterMs: 0, resetAfterMs: 1 });
    expect(consume(0, 299_998)).toMatchObject({ allowed: true, remaining: 1, resetAfterMs: 1000 });
    expect(consume(0, 2)).toEqual({ allowed: false, remaining: 1, retryAfterMs: 1, resetAfterMs: 1000 });
    expect(consume(0)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refuses rates whose arithmetic would leave 2^53, and accepts the largest window', () => {
    expect(isExactRate(gcraRate(94_906_261, MAX_WINDOW_MS))).toBe(true);
    expect(isExactRate(gcraRate(94_906_267, MAX_WINDOW_MS))).toBe(false);
    // A limit that divides the window is exact at any size: its interval is whole microseconds.
    expect(isExactRate(gcraRate(1_000_000_000, 3_600_000))).toBe(true);
  });
});
