/**
 * GCRA (generic cell rate algorithm), the rate limiter's algorithm: each key keeps one time,
 * its theoretical arrival time (TAT). A unit of cost moves the TAT one emission interval
 * (window / limit) into the future; a request passes while the TAT it would create is at most
 * one window ahead of now. That is a sliding window with a burst of `limit`, exact at every
 * instant (no fixed-window boundary letting 2× through), in O(1) state per key.
 *
 * The arithmetic is exact: the interval is the fraction windowUs / limit in lowest terms, and
 * a time is whole microseconds plus a remainder in units of 1 / denominator µs. Rounding the
 * interval to whole microseconds instead let 300,000 per second allow 333,333. Every
 * intermediate value stays an integer below 2^53 (see gcraRate), because the Redis adapter
 * runs the same steps in Lua, whose only numbers are doubles.
 *
 * The decision (gcraAdvance) must be atomic with the read and write of the TAT: the Redis
 * adapter runs it in Lua (redis/scripts.ts), the memory adapter here. Everything derived from
 * its outcome (gcraDecision) is computed here for both.
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

/** A limit per window, with its emission interval as `whole + fraction / denominator` µs. */
export interface GcraRate {
  /** Identifies equal rates (limiters of the same limit and window). */
  readonly id: string;
  readonly limit: number;
  readonly windowUs: number;
  readonly whole: number;
  readonly fraction: number;
  readonly denominator: number;
}

/** A time: `us + frac / denominator` microseconds, with 0 ≤ frac < denominator. */
export interface GcraTime {
  us: number;
  frac: number;
}

export interface GcraOutcome {
  allowed: boolean;
  /** How far the key's TAT is ahead of now once decided (≥ 0), as a GcraTime. */
  ahead: GcraTime;
}

/** The longest window accepted: now + a few windows stays far below 2^53 µs. */
export const MAX_WINDOW_MS = 366 * 24 * 60 * 60 * 1000;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** The rate of `limit` units per `windowMs` (positive safe integers, windowMs ≤ MAX_WINDOW_MS). */
export function gcraRate(limit: number, windowMs: number): GcraRate {
  const windowUs = windowMs * 1000;
  const divisor = gcd(windowUs, limit);
  const numerator = windowUs / divisor;
  const denominator = limit / divisor;
  return {
    id: `${limit}/${windowMs}`,
    limit,
    windowUs,
    whole: Math.floor(numerator / denominator),
    fraction: numerator % denominator,
    denominator,
  };
}

/**
 * Whether every value the steps below compute stays an integer below 2^53. The largest is a
 * remainder sum: under (limit + 1) × denominator. Times stay below now + 3 windows, far from it.
 */
export function isExactRate(rate: GcraRate): boolean {
  return (rate.limit + 1) * rate.denominator <= Number.MAX_SAFE_INTEGER;
}

/** `time + cost` emission intervals. */
function after(time: GcraTime, cost: number, rate: GcraRate): GcraTime {
  const frac = time.frac + cost * rate.fraction;
  return {
    us: time.us + cost * rate.whole + Math.floor(frac / rate.denominator),
    frac: frac % rate.denominator,
  };
}

/** A duration ahead of now that is still within the window. */
function withinWindow(ahead: GcraTime, rate: GcraRate): boolean {
  return ahead.us < rate.windowUs || (ahead.us === rate.windowUs && ahead.frac === 0);
}

/** The atomic step: the outcome, and the TAT to store (undefined when nothing changes). */
export function gcraAdvance(
  stored: GcraTime | undefined,
  nowUs: number,
  cost: number,
  rate: GcraRate,
): { outcome: GcraOutcome; tat: GcraTime | undefined } {
  const tat = stored !== undefined && stored.us >= nowUs ? stored : { us: nowUs, frac: 0 };
  const next = after(tat, cost, rate);
  const ahead = { us: next.us - nowUs, frac: next.frac };
  if (!withinWindow(ahead, rate))
    return { outcome: { allowed: false, ahead: { us: tat.us - nowUs, frac: tat.frac } }, tat: undefined };
  return { outcome: { allowed: true, ahead }, tat: cost > 0 ? next : undefined };
}

/** Rounds a duration up to whole milliseconds (a remainder is less than one µs). */
function ceilMs(duration: GcraTime): number {
  return Math.ceil((duration.us + (duration.frac > 0 ? 1 : 0)) / 1000);
}

/** The most unit-cost requests that fit in the window after `ahead`. */
function unitsThatFit(ahead: GcraTime, rate: GcraRate): number {
  const interval = rate.whole + rate.fraction / rate.denominator;
  const estimate = Math.floor((rate.windowUs - ahead.us - ahead.frac / rate.denominator) / interval);
  // The estimate is a double, off by one at most: settle it with exact steps.
  let units = Math.min(rate.limit, Math.max(0, estimate));
  while (units > 0 && !withinWindow(after(ahead, units, rate), rate)) units -= 1;
  while (units < rate.limit && withinWindow(after(ahead, units + 1, rate), rate)) units += 1;
  return units;
}

export function gcraDecision({ allowed, ahead }: GcraOutcome, cost: number, rate: GcraRate): GcraDecision {
  let retryAfterMs = 0;
  if (!allowed) {
    const passesAt = after(ahead, cost, rate);
    retryAfterMs = ceilMs({ us: passesAt.us - rate.windowUs, frac: passesAt.frac });
  }
  return { allowed, remaining: unitsThatFit(ahead, rate), retryAfterMs, resetAfterMs: ceilMs(ahead) };
}
