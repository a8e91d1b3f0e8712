import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WINDOW_MS } from '../../src/coordination/gcra.ts';
import {
  type Coordination,
  type ErrorReporter,
  LockLostError,
  LockNotAcquiredError,
  type RateLimiter,
  type RateLimiterOptions,
} from '../../src/coordination/index.ts';
import { ValidationError } from '../../src/errors/index.ts';

/** A limiter of the adapter under test whose clock stands still until the test moves it. */
export interface FrozenClockLimiter {
  limiter: RateLimiter;
  advanceMs(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** One adapter under test. */
export interface ContractTarget {
  name: string;
  open(options: { onError: ErrorReporter }): Promise<Coordination>;
  /** For counts that must not depend on how long the test takes (1,000,000 per second…). */
  frozenClockLimiter(options: RateLimiterOptions): Promise<FrozenClockLimiter>;
}

/** A name no other test uses, so tests can share one store. */
function unique(label: string): string {
  return `${label}-${randomUUID()}`;
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * Spends a whole budget at one instant and returns how many units passed: most of a large
 * budget in a hundred chunks, then the last 10,000 units one request each, where a rounding per
 * request would add up (it let 300,000 per second allow 333,333), then 100 more.
 */
async function unitsAllowedAtOnce(limiter: RateLimiter, key: string, limit: number): Promise<number> {
  const singles = Math.min(limit, 10_000);
  const chunk = Math.ceil((limit - singles) / 100);
  const chunks: number[] = [];
  for (let spent = 0; spent < limit - singles; spent += chunk) {
    chunks.push(Math.min(chunk, limit - singles - spent));
  }
  let allowed = 0;
  for (const [i, result] of (await Promise.all(chunks.map((cost) => limiter.consume(key, cost)))).entries()) {
    if (result.allowed) allowed += chunks[i] as number;
  }
  const units = await Promise.all(Array.from({ length: singles + 100 }, () => limiter.consume(key)));
  return allowed + units.filter((result) => result.allowed).length;
}

/**
 * The behaviour every adapter must have, written once. Timing-based checks use short TTLs with
 * margins of tens of milliseconds.
 */
export function describeCoordinationContract(target: ContractTarget): void {
  describe(`coordination contract: ${target.name}`, () => {
    let coordination: Coordination;
    const reported: Array<{ error: Error; context: string }> = [];

    beforeAll(async () => {
      coordination = await target.open({ onError: (error, context) => reported.push({ error, context }) });
    });

    afterAll(async () => {
      await coordination?.close();
    });

    describe('cache', () => {
      it('returns undefined on a miss and JSON values on a hit', async () => {
        const { cache } = coordination;
        expect(await cache.get(unique('absent'))).toBeUndefined();
        const values = [{ a: 1, nested: { list: [1, 'two', null] } }, [1, 2], 'text', 0, false, null];
        for (const value of values) {
          const key = unique('value');
          await cache.set(key, value, 10_000);
          expect(await cache.get(key)).toEqual(value);
        }
      });

      it('hands out copies: mutating a result does not change the cache', async () => {
        const key = unique('copy');
        await coordination.cache.set(key, { count: 1 }, 10_000);
        const first = await coordination.cache.get<{ count: number }>(key);
        if (first) first.count = 99;
        expect(await coordination.cache.get(key)).toEqual({ count: 1 });
      });

      it('expires entries after their TTL', async () => {
        const key = unique('ttl');
        // Long enough that a busy machine still reads it back before it expires.
        await coordination.cache.set(key, 'soon gone', { ttlMs: 400 });
        expect(await coordination.cache.get(key)).toBe('soon gone');
        await sleep(500);
        expect(await coordination.cache.get(key)).toBeUndefined();
      });

      it('deletes one entry', async () => {
        const key = unique('delete');
        await coordination.cache.set(key, 1, 10_000);
        expect(await coordination.cache.delete(key)).toBe(true);
        expect(await coordination.cache.delete(key)).toBe(false);
        expect(await coordination.cache.get(key)).toBeUndefined();
      });

      it('getOrSet: 100 concurrent misses make one loader call', async () => {
        const key = unique('flight');
        let calls = 0;
        const loader = async () => {
          calls += 1;
          await sleep(20);
          return { loaded: true };
        };
        const results = await Promise.all(
          Array.from({ length: 100 }, () => coordination.cache.getOrSet(key, loader, 10_000)),
        );
        expect(calls).toBe(1);
        expect(results.every((result) => result.loaded)).toBe(true);
        expect(await coordination.cache.getOrSet(key, loader, 10_000)).toEqual({ loaded: true });
        expect(calls).toBe(1);
      });

      it('getOrSet: a failing loader fails every waiter and caches nothing', async () => {
        const key = unique('failing');
        let calls = 0;
        const failing = async () => {
          calls += 1;
          await sleep(10);
          throw new Error('source down');
        };
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, () => coordination.cache.getOrSet(key, failing, 10_000)),
        );
        expect(calls).toBe(1);
        expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
        expect(await coordination.cache.getOrSet(key, () => 'recovered', 10_000)).toBe('recovered');
      });

      it('getOrSet: an undefined result is returned but not cached', async () => {
        const key = unique('undefined');
        expect(await coordination.cache.getOrSet(key, () => undefined, 10_000)).toBeUndefined();
        expect(await coordination.cache.getOrSet(key, () => 'now cached', 10_000)).toBe('now cached');
      });

      it('invalidates by tag, only the entries carrying it', async () => {
        const { cache } = coordination;
        const [userTag, orgTag] = [unique('user'), unique('org')];
        const [both, userOnly, orgOnly, untagged] = [unique('both'), unique('u'), unique('o'), unique('n')];
        await cache.set(both, 1, { ttlMs: 10_000, tags: [userTag, orgTag] });
        await cache.set(userOnly, 2, { ttlMs: 10_000, tags: [userTag] });
        await cache.set(orgOnly, 3, { ttlMs: 10_000, tags: [orgTag] });
        await cache.set(untagged, 4, 10_000);
        await cache.invalidateTags([userTag]);
        expect(await cache.get(both)).toBeUndefined();
        expect(await cache.get(userOnly)).toBeUndefined();
        expect(await cache.get(orgOnly)).toBe(3);
        expect(await cache.get(untagged)).toBe(4);
        // The tag is usable again at once.
        await cache.set(userOnly, 5, { ttlMs: 10_000, tags: [userTag] });
        expect(await cache.get(userOnly)).toBe(5);
      });

      it('an invalidation during a load keeps the loaded value out of the cache', async () => {
        const { cache } = coordination;
        const [key, tag] = [unique('racing'), unique('tag')];
        const value = await cache.getOrSet(
          key,
          async () => {
            await cache.invalidateTags([tag]);
            return 'loaded before the invalidation';
          },
          { ttlMs: 10_000, tags: [tag] },
        );
        expect(value).toBe('loaded before the invalidation');
        expect(await cache.get(key)).toBeUndefined();
      });

      it('clears by glob pattern, within its own keys', async () => {
        const { cache } = coordination;
        const scope = unique('scope');
        for (const key of ['user:1', 'user:2', 'user:10', 'org:1'])
          await cache.set(`${scope}:${key}`, key, 10_000);
        expect(await cache.clearPattern(`${scope}:user:?`)).toBe(2);
        expect(await cache.get(`${scope}:user:10`)).toBe('user:10');
        expect(await cache.clearPattern(`${scope}:user:*`)).toBe(1);
        expect(await cache.get(`${scope}:org:1`)).toBe('org:1');
        expect(await cache.clearPattern(`${scope}:[o]rg:*`)).toBe(1);
      });

      it('cached() wraps a function: one call per distinct arguments, tags from arguments', async () => {
        const calls: string[] = [];
        const scope = unique('fn');
        const loadUser = coordination.cache.cached(
          async (id: string) => {
            calls.push(id);
            return { id, name: `user ${id}` };
          },
          { key: (id) => `${scope}:user:${id}`, ttlMs: 10_000, tags: (id) => [`${scope}:user:${id}`] },
        );
        expect(await loadUser('1')).toEqual({ id: '1', name: 'user 1' });
        expect(await loadUser('1')).toEqual({ id: '1', name: 'user 1' });
        await loadUser('2');
        expect(calls).toEqual(['1', '2']);
        await coordination.cache.invalidateTags([`${scope}:user:1`]);
        await loadUser('1');
        await loadUser('2');
        expect(calls).toEqual(['1', '2', '1']);
      });

      it('rejects bad input with ValidationError', async () => {
        const { cache } = coordination;
        await expect(cache.get('')).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', 1, 0)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', 1, -5)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', 1, 1.5)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', undefined, 1000)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', () => 1, 1000)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', 10n, 1000)).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.set('k', 1, { ttlMs: 1000, tags: [''] })).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.getOrSet('k', () => 1, { ttlMs: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(cache.invalidateTags('tag' as unknown as string[])).rejects.toBeInstanceOf(
          ValidationError,
        );
        await expect(cache.clearPattern('')).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('rate limiter', () => {
      it('500 concurrent consumes against a limit of 100: exactly 100 allowed', async () => {
        const limiter = coordination.rateLimiter({ name: 'contract', limit: 100, windowMs: 60_000 });
        const key = unique('burst');
        const results = await Promise.all(Array.from({ length: 500 }, () => limiter.consume(key)));
        const allowed = results.filter((result) => result.allowed);
        expect(allowed).toHaveLength(100);
        const denied = results.filter((result) => !result.allowed);
        expect(denied.every((result) => result.remaining === 0 && result.retryAfterMs > 0)).toBe(true);
        expect(results.every((result) => result.limit === 100 && !result.degraded)).toBe(true);
      });

      it('counts costs down, peeks without spending, and resets', async () => {
        const limiter = coordination.rateLimiter({ name: 'costs', limit: 10, windowMs: 60_000 });
        const key = unique('cost');
        expect(await limiter.consume(key, 3)).toMatchObject({ allowed: true, remaining: 7, retryAfterMs: 0 });
        expect(await limiter.peek(key)).toMatchObject({ allowed: true, remaining: 7 });
        expect(await limiter.consume(key, 7)).toMatchObject({ allowed: true, remaining: 0 });
        const denied = await limiter.consume(key, 2);
        expect(denied.allowed).toBe(false);
        // Two units come back after two emission intervals (2 × 6 s).
        expect(denied.retryAfterMs).toBeGreaterThan(11_000);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(12_000);
        expect(denied.resetAfterMs).toBeGreaterThan(59_000);
        await limiter.reset(key);
        expect(await limiter.peek(key)).toMatchObject({ allowed: true, remaining: 10 });
      });

      it('is a sliding window: half a window after exhaustion, half the budget is back', async () => {
        const limiter = coordination.rateLimiter({ name: 'sliding', limit: 10, windowMs: 400 });
        const key = unique('slide');
        const burst = await Promise.all(Array.from({ length: 15 }, () => limiter.consume(key)));
        expect(burst.filter((result) => result.allowed)).toHaveLength(10);
        await sleep(200);
        const later = await Promise.all(Array.from({ length: 10 }, () => limiter.consume(key)));
        const allowedLater = later.filter((result) => result.allowed).length;
        // A fixed window would give 0 or all 10 here; emission intervals of 40 ms give about 5.
        expect(allowedLater).toBeGreaterThanOrEqual(4);
        expect(allowedLater).toBeLessThanOrEqual(6);
      });

      it('lets a request through once retryAfterMs has passed', async () => {
        const limiter = coordination.rateLimiter({ name: 'retry', limit: 2, windowMs: 200 });
        const key = unique('retry');
        await limiter.consume(key);
        await limiter.consume(key);
        const denied = await limiter.consume(key);
        expect(denied.allowed).toBe(false);
        expect(denied.retryAfterMs).toBeGreaterThan(50);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(100);
        await sleep(denied.retryAfterMs + 5);
        expect((await limiter.consume(key)).allowed).toBe(true);
      });

      it('keeps keys and limiter names apart', async () => {
        const first = coordination.rateLimiter({ name: 'apart-a', limit: 1, windowMs: 60_000 });
        const second = coordination.rateLimiter({ name: 'apart-b', limit: 1, windowMs: 60_000 });
        const key = unique('apart');
        expect((await first.consume(key)).allowed).toBe(true);
        expect((await first.consume(key)).allowed).toBe(false);
        expect((await first.consume(`${key}-other`)).allowed).toBe(true);
        expect((await second.consume(key)).allowed).toBe(true);
      });

      it.each([
        [1, 1000],
        [7, 1000],
        [1000, 1000],
        [300_000, 1000],
        [1_000_000, 1000],
        [1_000_000, 1],
        [7, 60_000],
        [300_000, 60_000],
        [1_000_000, 3_600_000],
        [999_983, 3_600_000],
        [123_457, 86_400_000],
        // The longest window, with the largest limit whose interval's denominator fits 2^53 there.
        [94_906_261, MAX_WINDOW_MS],
      ])('allows exactly %i units per %i ms window, window after window', async (limit, windowMs) => {
        const frozen = await target.frozenClockLimiter({ name: 'exact', limit, windowMs });
        try {
          const key = unique('exact');
          expect(await unitsAllowedAtOnce(frozen.limiter, key, limit)).toBe(limit);
          await frozen.advanceMs(windowMs - 1);
          const peek = await frozen.limiter.peek(key);
          expect(peek.remaining).toBe(limit - Math.ceil(limit / windowMs));
          await frozen.advanceMs(1);
          expect(await unitsAllowedAtOnce(frozen.limiter, key, limit)).toBe(limit);
        } finally {
          await frozen.close();
        }
      });

      it('rejects bad input with ValidationError', async () => {
        const limiter = coordination.rateLimiter({ name: 'bad', limit: 5, windowMs: 1000 });
        await expect(limiter.consume('k', 0)).rejects.toBeInstanceOf(ValidationError);
        await expect(limiter.consume('k', -1)).rejects.toBeInstanceOf(ValidationError);
        await expect(limiter.consume('k', 1.5)).rejects.toBeInstanceOf(ValidationError);
        await expect(limiter.consume('k', 6)).rejects.toBeInstanceOf(ValidationError);
        await expect(limiter.consume('')).rejects.toBeInstanceOf(ValidationError);
        const bad = [
          { name: 'has:colon', limit: 5, windowMs: 1000 },
          { name: '', limit: 5, windowMs: 1000 },
          { name: 'x', limit: 0, windowMs: 1000 },
          { name: 'x', limit: 5, windowMs: 0 },
          { name: 'x', limit: 5, windowMs: MAX_WINDOW_MS + 1 },
          // Intervals whose remainders could not stay exact below 2^53.
          { name: 'x', limit: 123_456_791, windowMs: 1000 },
          { name: 'x', limit: 94_906_267, windowMs: MAX_WINDOW_MS },
          { name: 'x', limit: 5, windowMs: 1000, onUnavailable: 'maybe' as 'allow' },
        ];
        for (const options of bad) expect(() => coordination.rateLimiter(options)).toThrow(ValidationError);
        expect(() => coordination.rateLimiter({ name: 'x', limit: 123_456_791, windowMs: 1000 })).toThrow(
          /cannot be counted exactly/,
        );
      });
    });

    describe('sessions', () => {
      it('creates a session with a random token and finds it by that token only', async () => {
        const user = unique('user');
        const created = await coordination.sessions.create(user, { roles: ['admin'] }, { ttlMs: 10_000 });
        expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(created.id).not.toBe(created.token);
        expect(created.expiresAt.getTime() - created.createdAt.getTime()).toBe(10_000);
        const found = await coordination.sessions.get(created.token);
        expect(found).toMatchObject({
          id: created.id,
          userId: user,
          data: { roles: ['admin'] },
          ttlMs: 10_000,
        });
        expect(found).not.toHaveProperty('token');
        expect(await coordination.sessions.get(created.id)).toBeUndefined();
        expect(await coordination.sessions.get('not-a-token')).toBeUndefined();
      });

      it('issues distinct tokens', async () => {
        const user = unique('user');
        const created = await Promise.all(
          Array.from({ length: 50 }, () => coordination.sessions.create(user, {}, { ttlMs: 10_000 })),
        );
        expect(new Set(created.map((session) => session.token)).size).toBe(50);
        expect(await coordination.sessions.destroyAllForUser(user)).toBe(50);
      });

      it('expired sessions are gone, from get and from the user list', async () => {
        const user = unique('user');
        const shortLived = await coordination.sessions.create(user, {}, { ttlMs: 60 });
        const longLived = await coordination.sessions.create(user, {}, { ttlMs: 10_000 });
        await sleep(100);
        expect(await coordination.sessions.get(shortLived.token)).toBeUndefined();
        expect(await coordination.sessions.touch(shortLived.token)).toBeUndefined();
        const listed = await coordination.sessions.listForUser(user);
        expect(listed.map((session) => session.id)).toEqual([longLived.id]);
      });

      it('touch rolls the expiry forward', async () => {
        const created = await coordination.sessions.create(unique('user'), { n: 1 }, { ttlMs: 200 });
        await sleep(120);
        const touched = await coordination.sessions.touch(created.token);
        expect(touched?.expiresAt.getTime()).toBeGreaterThan(created.expiresAt.getTime() + 100);
        await sleep(130); // 250 ms after creation: past the original expiry
        expect(await coordination.sessions.get(created.token)).toMatchObject({ data: { n: 1 } });
        await sleep(150);
        expect(await coordination.sessions.get(created.token)).toBeUndefined();
      });

      it('touch may set a different TTL for this extension', async () => {
        const created = await coordination.sessions.create(unique('user'), {}, { ttlMs: 10_000 });
        const touched = await coordination.sessions.touch(created.token, { ttlMs: 50 });
        expect(touched?.ttlMs).toBe(10_000);
        await sleep(90);
        expect(await coordination.sessions.get(created.token)).toBeUndefined();
      });

      it('destroys one session', async () => {
        const created = await coordination.sessions.create(unique('user'), {}, { ttlMs: 10_000 });
        expect(await coordination.sessions.destroy(created.token)).toBe(true);
        expect(await coordination.sessions.get(created.token)).toBeUndefined();
        expect(await coordination.sessions.destroy(created.token)).toBe(false);
      });

      it('lists and destroys all sessions of a user, leaving other users alone', async () => {
        const [alice, bob] = [unique('alice'), unique('bob')];
        const alices = [];
        for (let i = 0; i < 3; i++) alices.push(await coordination.sessions.create(alice, { device: i }));
        const bobs = await coordination.sessions.create(bob, { device: 'phone' });
        const listed = await coordination.sessions.listForUser<{ device: number }>(alice);
        expect(listed.map((session) => session.data.device).sort()).toEqual([0, 1, 2]);
        expect(listed.map((session) => session.id).sort()).toEqual(
          alices.map((session) => session.id).sort(),
        );
        expect(await coordination.sessions.destroyAllForUser(alice)).toBe(3);
        for (const session of alices) expect(await coordination.sessions.get(session.token)).toBeUndefined();
        expect(await coordination.sessions.listForUser(alice)).toEqual([]);
        expect(await coordination.sessions.get(bobs.token)).toMatchObject({ userId: bob });
        expect(await coordination.sessions.destroyAllForUser(alice)).toBe(0);
      });

      it('rejects bad input with ValidationError', async () => {
        const { sessions } = coordination;
        await expect(sessions.create('', {})).rejects.toBeInstanceOf(ValidationError);
        await expect(sessions.create('u', {}, { ttlMs: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(sessions.create('u', undefined)).rejects.toBeInstanceOf(ValidationError);
        await expect(sessions.get('')).rejects.toBeInstanceOf(ValidationError);
        await expect(sessions.touch('t', { ttlMs: -1 })).rejects.toBeInstanceOf(ValidationError);
        await expect(sessions.listForUser('')).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('locks', () => {
      it('excludes a second holder until released', async () => {
        const name = unique('lock');
        const lock = await coordination.locks.acquire(name, { ttlMs: 10_000 });
        expect(lock.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(await coordination.locks.tryAcquire(name, { ttlMs: 10_000 })).toBeUndefined();
        expect(await lock.release()).toBe(true);
        const next = await coordination.locks.tryAcquire(name, { ttlMs: 10_000 });
        expect(next?.fencingToken).toBeGreaterThan(lock.fencingToken);
        await next?.release();
      });

      it('fencing tokens increase with every grant', async () => {
        const tokens: number[] = [];
        for (const name of [unique('a'), unique('b'), unique('a')]) {
          const lock = await coordination.locks.acquire(name, { ttlMs: 10_000 });
          tokens.push(lock.fencingToken);
          await lock.release();
        }
        expect(tokens[1]).toBeGreaterThan(tokens[0] as number);
        expect(tokens[2]).toBeGreaterThan(tokens[1] as number);
      });

      it('release and extend work only with the right token', async () => {
        const name = unique('expiring');
        const stale = await coordination.locks.acquire(name, { ttlMs: 40 });
        await sleep(70);
        const current = await coordination.locks.acquire(name, { ttlMs: 10_000 });
        expect(await stale.extend(10_000)).toBe(false);
        expect(await stale.release()).toBe(false);
        expect(stale.signal.aborted).toBe(true);
        expect(stale.signal.reason).toBeInstanceOf(LockLostError);
        expect(await coordination.locks.tryAcquire(name, { ttlMs: 10_000 })).toBeUndefined();
        expect(await current.release()).toBe(true);
      });

      it('extend pushes the expiry', async () => {
        const name = unique('extend');
        const lock = await coordination.locks.acquire(name, { ttlMs: 80 });
        await sleep(40);
        expect(await lock.extend(300)).toBe(true);
        await sleep(100); // past the first TTL
        expect(await coordination.locks.tryAcquire(name, { ttlMs: 10_000 })).toBeUndefined();
        expect(await lock.release()).toBe(true);
      });

      it('waits for a release, up to waitMs', async () => {
        const name = unique('wait');
        const holder = await coordination.locks.acquire(name, { ttlMs: 10_000 });
        setTimeout(() => void holder.release(), 80);
        const started = Date.now();
        const waiter = await coordination.locks.acquire(name, {
          ttlMs: 10_000,
          waitMs: 2000,
          retryDelayMs: 10,
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(70);
        expect(waiter.fencingToken).toBeGreaterThan(holder.fencingToken);
        const timedOutAt = Date.now();
        await expect(
          coordination.locks.acquire(name, { ttlMs: 10_000, waitMs: 60, retryDelayMs: 10 }),
        ).rejects.toThrow(LockNotAcquiredError);
        expect(Date.now() - timedOutAt).toBeGreaterThanOrEqual(55);
        await waiter.release();
      });

      it('mutual exclusion: 20 contenders incrementing a shared counter get an exact result', async () => {
        const name = unique('counter');
        let counter = 0;
        let inside = 0;
        let maxInside = 0;
        const fencingOrder: number[] = [];
        const contender = async () => {
          for (let i = 0; i < 5; i++) {
            await coordination.locks.withLock(
              name,
              { ttlMs: 5000, waitMs: 20_000, retryDelayMs: 5 },
              async (lock) => {
                inside += 1;
                maxInside = Math.max(maxInside, inside);
                fencingOrder.push(lock.fencingToken);
                const read = counter;
                await sleep(1); // a read-modify-write that races without the lock
                counter = read + 1;
                inside -= 1;
              },
            );
          }
        };
        await Promise.all(Array.from({ length: 20 }, contender));
        expect(counter).toBe(100);
        expect(maxInside).toBe(1);
        expect(fencingOrder).toEqual([...fencingOrder].sort((a, b) => a - b));
      });

      it('auto-extend keeps a lock alive past its TTL while the holder works', async () => {
        const name = unique('auto');
        const lock = await coordination.locks.acquire(name, { ttlMs: 60, autoExtend: true });
        await sleep(200);
        expect(await coordination.locks.tryAcquire(name, { ttlMs: 10_000 })).toBeUndefined();
        expect(lock.signal.aborted).toBe(false);
        expect(await lock.release()).toBe(true);
        expect(await coordination.locks.tryAcquire(name, { ttlMs: 10 })).toBeDefined();
      });

      it('withLock reports a lock lost during the work', async () => {
        const name = unique('lost');
        const work = coordination.locks.withLock(name, { ttlMs: 40, autoExtend: false }, async () => {
          await sleep(80);
          return 'done';
        });
        await expect(work).rejects.toBeInstanceOf(LockLostError);
      });

      it('withLock releases after a failure of the work', async () => {
        const name = unique('failing');
        await expect(
          coordination.locks.withLock(name, { ttlMs: 10_000 }, async () => {
            throw new Error('work failed');
          }),
        ).rejects.toThrow('work failed');
        const again = await coordination.locks.tryAcquire(name, { ttlMs: 10_000 });
        expect(again).toBeDefined();
        await again?.release();
      });

      it('rejects bad input with ValidationError', async () => {
        const { locks } = coordination;
        await expect(locks.acquire('', { ttlMs: 1000 })).rejects.toBeInstanceOf(ValidationError);
        await expect(locks.acquire('n', { ttlMs: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(locks.acquire('n', { ttlMs: 1000, waitMs: -1 })).rejects.toBeInstanceOf(ValidationError);
        await expect(locks.acquire('n', { ttlMs: 1000, retryDelayMs: 0 })).rejects.toBeInstanceOf(
          ValidationError,
        );
        await expect(locks.tryAcquire('n', { ttlMs: 2.5 })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe('pub/sub', () => {
      it('delivers JSON messages in order to subscribers of the channel', async () => {
        const tenant = unique('tenant');
        const received: unknown[] = [];
        const subscription = await coordination.pubsub.subscribe(tenant, 'events', (message) => {
          received.push(message);
        });
        for (let i = 0; i < 5; i++) await coordination.pubsub.publish(tenant, 'events', { i, at: 'now' });
        await eventually(() => received.length === 5);
        expect(received).toEqual([0, 1, 2, 3, 4].map((i) => ({ i, at: 'now' })));
        await subscription.unsubscribe();
      });

      it("a subscriber of tenant A never receives tenant B's messages", async () => {
        const [tenantA, tenantB] = [unique('a'), unique('b')];
        const toA: unknown[] = [];
        const toB: unknown[] = [];
        const subA = await coordination.pubsub.subscribe(
          tenantA,
          'tasks',
          (message) => void toA.push(message),
        );
        const subB = await coordination.pubsub.subscribe(
          tenantB,
          'tasks',
          (message) => void toB.push(message),
        );
        // Names that would collide if tenant and channel were simply joined with ":".
        const tricky: unknown[] = [];
        const subTricky = await coordination.pubsub.subscribe(
          `${tenantA}:tasks`,
          'x',
          (m) => void tricky.push(m),
        );
        await coordination.pubsub.publish(tenantB, 'tasks', { for: 'B' });
        await coordination.pubsub.publish(tenantA, 'tasks:x', { for: 'A, channel tasks:x' });
        await coordination.pubsub.publish(tenantA, 'tasks', { for: 'A' });
        await eventually(() => toA.length === 1 && toB.length === 1);
        await sleep(30);
        expect(toA).toEqual([{ for: 'A' }]);
        expect(toB).toEqual([{ for: 'B' }]);
        expect(tricky).toEqual([]);
        for (const subscription of [subA, subB, subTricky]) await subscription.unsubscribe();
      });

      it('unsubscribe stops one listener and leaves the others', async () => {
        const tenant = unique('tenant');
        const first: unknown[] = [];
        const second: unknown[] = [];
        const subFirst = await coordination.pubsub.subscribe(
          tenant,
          'c',
          (message) => void first.push(message),
        );
        const subSecond = await coordination.pubsub.subscribe(
          tenant,
          'c',
          (message) => void second.push(message),
        );
        await coordination.pubsub.publish(tenant, 'c', 1);
        await eventually(() => first.length === 1 && second.length === 1);
        await subFirst.unsubscribe();
        await subFirst.unsubscribe(); // idempotent
        await coordination.pubsub.publish(tenant, 'c', 2);
        await eventually(() => second.length === 2);
        await sleep(30);
        expect(first).toEqual([1]);
        await subSecond.unsubscribe();
        await coordination.pubsub.publish(tenant, 'c', 3);
        await sleep(30);
        expect(second).toEqual([1, 2]);
      });

      it('a failing listener is reported and does not affect the others', async () => {
        const tenant = unique('tenant');
        const received: unknown[] = [];
        const failing = await coordination.pubsub.subscribe(tenant, 'c', () => {
          throw new Error('listener bug');
        });
        const healthy = await coordination.pubsub.subscribe(
          tenant,
          'c',
          (message) => void received.push(message),
        );
        await coordination.pubsub.publish(tenant, 'c', 'hello');
        await eventually(() => received.length === 1);
        await eventually(() => reported.some(({ error }) => error.message === 'listener bug'));
        await failing.unsubscribe();
        await healthy.unsubscribe();
      });

      it('rejects bad input with ValidationError', async () => {
        const { pubsub } = coordination;
        await expect(pubsub.publish('', 'c', 1)).rejects.toBeInstanceOf(ValidationError);
        await expect(pubsub.publish('t', '', 1)).rejects.toBeInstanceOf(ValidationError);
        await expect(pubsub.publish('t', 'c', undefined)).rejects.toBeInstanceOf(ValidationError);
        await expect(pubsub.subscribe('t', 'c', 'nope' as unknown as () => void)).rejects.toBeInstanceOf(
          ValidationError,
        );
      });
    });

    it('answers ping', async () => {
      await expect(coordination.ping()).resolves.toBeUndefined();
    });
  });
}
