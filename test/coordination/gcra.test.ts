import { describe, expect, it } from 'vitest';
import { gcraAdvance, gcraDecision } from '../../src/coordination/gcra.ts';

/** What a store does: the atomic step, then the derived numbers. */
function gcraStep(
  storedTat: number | undefined,
  nowUs: number,
  cost: number,
  limit: number,
  windowMs: number,
) {
  const { outcome, tat } = gcraAdvance(storedTat, nowUs, cost, limit, windowMs);
  return { decision: gcraDecision(outcome, cost, limit, windowMs), tat };
}

/** Drives gcraStep like a store would, on a virtual clock (milliseconds). */
function limiter(limit: number, windowMs: number) {
  let tat: number | undefined;
  return (atMs: number, cost = 1) => {
    const step = gcraStep(tat, atMs * 1000, cost, limit, windowMs);
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
    let tat: number | undefined;
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
});
