import { ValidationError } from '../errors/index.ts';
import { CoordinationUnavailableError } from './errors.ts';
import { type GcraDecision, type GcraRate, gcraRate, isExactRate, MAX_WINDOW_MS } from './gcra.ts';
import type { ErrorReporter } from './report-error.ts';
import { assertName, assertPositiveInteger } from './validation.ts';

/**
 * What a limiter does when the shared store is unreachable:
 * - `local` (default): limit in this process only (each process allows up to `limit`);
 * - `allow`: let everything through (fail open);
 * - `deny`: refuse everything (fail closed).
 * Results decided this way have `degraded: true`.
 */
export type RateLimitPolicy = 'local' | 'allow' | 'deny';

export interface RateLimiterOptions {
  /** Namespaces this limiter's keys: letters, digits, `_`, `.`, `-`. */
  name: string;
  /** Units allowed per window, all at once or spread out. */
  limit: number;
  /** At most MAX_WINDOW_MS (366 days). */
  windowMs: number;
  onUnavailable?: RateLimitPolicy;
}

export interface RateLimitResult extends GcraDecision {
  limit: number;
  /** True when the decision was made without the shared store (see RateLimitPolicy). */
  degraded: boolean;
}

/** GCRA rate limiter (see gcra.ts): a sliding window, exact under concurrency. */
export interface RateLimiter {
  readonly name: string;
  /** Spends `cost` units (default 1) of `key`'s budget if they are available. */
  consume(key: string, cost?: number): Promise<RateLimitResult>;
  /** The budget of `key`, without spending any. */
  peek(key: string): Promise<RateLimitResult>;
  /** Gives `key` its full budget back. Throws when the store is unreachable. */
  reset(key: string): Promise<void>;
}

/** An adapter's limiter state. `cost` 0 reads without writing. */
export interface RateLimitStore {
  consume(key: string, cost: number, rate: GcraRate): Promise<GcraDecision>;
  reset(key: string): Promise<void>;
}

/**
 * How long until every key of `keys` has budget again (0: it has). Reading a budget spends nothing
 * (peek); for one that is spent, a consume that is refused spends nothing either and tells when to
 * retry (if a unit came free in between it passes and counts one failure too many, harmlessly).
 */
export async function retryAfterMs(limiter: RateLimiter, keys: string[]): Promise<number> {
  const waits = await Promise.all(
    keys.map(async (key) => {
      if ((await limiter.peek(key)).remaining > 0) return 0;
      const attempt = await limiter.consume(key);
      return attempt.allowed ? 0 : attempt.retryAfterMs;
    }),
  );
  return Math.max(0, ...waits);
}

const LIMITER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const POLICIES: readonly RateLimitPolicy[] = ['local', 'allow', 'deny'];

function invalidOption(path: string, message: string): ValidationError {
  return new ValidationError(`rate limiter ${path} ${message}`, [{ path, message }]);
}

export class CoordinationRateLimiter implements RateLimiter {
  readonly name: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #rate: GcraRate;
  readonly #policy: RateLimitPolicy;
  readonly #store: RateLimitStore;
  readonly #fallback: RateLimitStore;
  readonly #report: ErrorReporter;

  constructor(
    options: RateLimiterOptions,
    store: RateLimitStore,
    fallback: RateLimitStore,
    report: ErrorReporter,
  ) {
    if (typeof options.name !== 'string' || !LIMITER_NAME.test(options.name)) {
      throw invalidOption('name', 'must be 1-64 letters, digits, "_", "." or "-"');
    }
    assertPositiveInteger(options.limit, 'limit');
    assertPositiveInteger(options.windowMs, 'windowMs');
    if (options.windowMs > MAX_WINDOW_MS)
      throw invalidOption('windowMs', `must be at most ${MAX_WINDOW_MS} (366 days)`);
    const rate = gcraRate(options.limit, options.windowMs);
    if (!isExactRate(rate)) {
      throw invalidOption(
        'limit',
        `of ${options.limit} per ${options.windowMs} ms cannot be counted exactly: the limit times the ` +
          `denominator of the emission interval (${rate.denominator}) exceeds 2^53; use a smaller limit, ` +
          `or one that divides ${rate.windowUs} µs more evenly`,
      );
    }
    const policy = options.onUnavailable ?? 'local';
    if (!POLICIES.includes(policy))
      throw invalidOption('onUnavailable', `must be one of ${POLICIES.join(', ')}`);
    this.name = options.name;
    this.#limit = options.limit;
    this.#windowMs = options.windowMs;
    this.#rate = rate;
    this.#policy = policy;
    this.#store = store;
    this.#fallback = fallback;
    this.#report = report;
  }

  // Not async: one async layer (#decide) is enough on the hot path.
  consume(key: string, cost = 1): Promise<RateLimitResult> {
    try {
      assertName(key, 'key');
      assertPositiveInteger(cost, 'cost');
      if (cost > this.#limit)
        throw invalidOption('cost', `exceeds the limit (${this.#limit}) and could never pass`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#decide(key, cost);
  }

  async peek(key: string): Promise<RateLimitResult> {
    assertName(key, 'key');
    return this.#decide(key, 0);
  }

  async reset(key: string): Promise<void> {
    assertName(key, 'key');
    await this.#store.reset(`${this.name}:${key}`);
  }

  async #decide(key: string, cost: number): Promise<RateLimitResult> {
    const fullKey = `${this.name}:${key}`;
    let decision: GcraDecision;
    try {
      decision = await this.#store.consume(fullKey, cost, this.#rate);
    } catch (error) {
      if (!(error instanceof CoordinationUnavailableError)) throw error;
      this.#report(error, `rate limiter "${this.name}" decided without the store (policy ${this.#policy})`);
      return this.#degraded(fullKey, cost);
    }
    return {
      allowed: decision.allowed,
      remaining: decision.remaining,
      retryAfterMs: decision.retryAfterMs,
      resetAfterMs: decision.resetAfterMs,
      limit: this.#limit,
      degraded: false,
    };
  }

  async #degraded(fullKey: string, cost: number): Promise<RateLimitResult> {
    const common = { limit: this.#limit, degraded: true };
    switch (this.#policy) {
      case 'local':
        return { ...(await this.#fallback.consume(fullKey, cost, this.#rate)), ...common };
      case 'allow':
        return { allowed: true, remaining: this.#limit - cost, retryAfterMs: 0, resetAfterMs: 0, ...common };
      case 'deny':
        // Nothing is known about the real budget: suggest one emission interval as the retry.
        return {
          allowed: false,
          remaining: 0,
          retryAfterMs: Math.ceil(this.#windowMs / this.#limit),
          resetAfterMs: this.#windowMs,
          ...common,
        };
    }
  }
}
