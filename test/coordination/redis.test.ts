import { createClient, defineScript } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeGlob } from '../../src/coordination/glob.ts';
import {
  type Coordination,
  type CoordinationRedisClient,
  createRedisCoordination,
  type RateLimiterOptions,
} from '../../src/coordination/index.ts';
import { MemoryRateLimitStore } from '../../src/coordination/memory/memory-rate-limit-store.ts';
import { CoordinationRateLimiter } from '../../src/coordination/rate-limiter.ts';
import type { RedisConnection } from '../../src/coordination/redis/redis-connection.ts';
import { RedisRateLimitStore } from '../../src/coordination/redis/redis-rate-limit-store.ts';
import { SCRIPTS } from '../../src/coordination/redis/scripts.ts';
import { ConfigurationError } from '../../src/errors/index.ts';
import { describeCoordinationContract, type FrozenClockLimiter } from './contract.ts';
import { deleteKeysWithPrefix, resolveRedis, uniquePrefix } from './redis-harness.ts';

const target = await resolveRedis();

if (target.url === undefined) {
  console.warn(`[coordination tests] Redis adapter tests SKIPPED: ${target.skipReason}`);
  describe.skip(`coordination contract: redis adapter — skipped: ${target.skipReason}`, () => {
    it('runs the contract against Redis', () => {});
  });
} else {
  const url = target.url;
  const prefix = uniquePrefix('contract');
  console.info(`[coordination tests] Redis: ${target.origin}, key prefix ${prefix}`);

  afterAll(async () => {
    await deleteKeysWithPrefix(url, prefix);
    await target.stop();
  });

  /**
   * The adapter's limiter store and script, except that the script reads "now" from a key the
   * test sets instead of the server's TIME (Redis cannot stop its clock). The arithmetic under
   * test is the production script's, on Redis' Lua doubles.
   */
  async function frozenClockLimiter(options: RateLimiterOptions): Promise<FrozenClockLimiter> {
    const clockKey = `${prefix}:frozen-clock`;
    const serverTime = "local t = redis.call('TIME')\nlocal now = t[1] * 1000000 + t[2]";
    const frozenTime = `local now = tonumber(redis.call('GET', '${clockKey}'))`;
    // Keys expire in Redis's real time, which runs on while the test's clock stands still: on a busy
    // machine a 1 ms window's key would expire mid-test. An hour later keeps it for the test's length.
    const expiry = "'PXAT', (floor(new_tat / window) + 2) * window / 1000";
    expect(SCRIPTS.gcraBatch.SCRIPT).toContain(serverTime);
    expect(SCRIPTS.gcraBatch.SCRIPT).toContain(expiry);
    const client = createClient({
      url,
      scripts: {
        gcraBatch: defineScript({
          ...SCRIPTS.gcraBatch,
          SCRIPT: SCRIPTS.gcraBatch.SCRIPT.replace(serverTime, frozenTime).replace(
            expiry,
            `${expiry} + 3600000`,
          ),
        }),
      },
    });
    await client.connect();
    const [seconds, microseconds] = (await client.time()).map(Number) as [number, number];
    await client.set(clockKey, String(seconds * 1_000_000 + microseconds));
    const store = new RedisRateLimitStore({ client } as unknown as RedisConnection, `${prefix}:rate:`);
    return {
      limiter: new CoordinationRateLimiter(options, store, new MemoryRateLimitStore(), () => {}),
      advanceMs: async (ms) => {
        await client.incrBy(clockKey, ms * 1000);
      },
      close: () => client.close(),
    };
  }

  describeCoordinationContract({
    name: `redis adapter (${target.origin})`,
    open: ({ onError }) => createRedisCoordination({ url, prefix, onError }),
    frozenClockLimiter,
  });

  /** Writes every kind of key through `other`, then checks that `mine` can neither see nor clear any of it. */
  async function expectIsolated(
    mine: Coordination & { client: CoordinationRedisClient },
    minePrefix: string,
    other: Coordination,
    otherPrefix: string,
  ): Promise<void> {
    await other.cache.set('entry', 'other', 60_000);
    await other.cache.set('tagged', 'other', { ttlMs: 60_000, tags: ['tag'] });
    const session = await other.sessions.create('user', { of: 'other' }, { ttlMs: 60_000 });
    const lock = await other.locks.acquire('lock', { ttlMs: 60_000 });
    await other.rateLimiter({ name: 'nest', limit: 1, windowMs: 60_000 }).consume('key');
    const received: unknown[] = [];
    const subscription = await mine.pubsub.subscribe('t', 'news', (message) => void received.push(message));
    try {
      // No key of one prefix lies in the other's key space (what SCAN MATCH and reads address).
      const otherKeys = [];
      for await (const batch of mine.client.scanIterator({ MATCH: `${escapeGlob(otherPrefix)}:*` }))
        otherKeys.push(...batch);
      expect(otherKeys.length).toBeGreaterThanOrEqual(5);
      expect(otherKeys.filter((key) => key.startsWith(`${minePrefix}:`))).toEqual([]);

      expect(await mine.cache.clearPattern('*')).toBe(0);
      await mine.cache.invalidateTags(['tag']);
      expect(await mine.sessions.listForUser('user')).toEqual([]);
      expect(await mine.sessions.destroyAllForUser('user')).toBe(0);
      const mineLock = await mine.locks.tryAcquire('lock', { ttlMs: 60_000 });
      expect(mineLock).toBeDefined();
      await mineLock?.release();
      expect(
        (await mine.rateLimiter({ name: 'nest', limit: 1, windowMs: 60_000 }).consume('key')).allowed,
      ).toBe(true);
      await other.pubsub.publish('t', 'news', 'from other');
      await mine.pubsub.publish('t', 'news', 'from mine');
      await expect.poll(() => received).toEqual(['from mine']);

      expect(await other.cache.get('entry')).toBe('other');
      expect(await other.cache.get('tagged')).toBe('other');
      expect(await other.sessions.get(session.token)).toMatchObject({ data: { of: 'other' } });
      expect(await lock.release()).toBe(true);
    } finally {
      await subscription.unsubscribe();
      await mine.cache.clearPattern('*');
      await other.cache.clearPattern('*');
      await other.sessions.destroyAllForUser('user');
      await mine.rateLimiter({ name: 'nest', limit: 1, windowMs: 60_000 }).reset('key');
      await other.rateLimiter({ name: 'nest', limit: 1, windowMs: 60_000 }).reset('key');
    }
  }

  describe('redis adapter across processes (one connection per instance)', () => {
    const open = (instancePrefix = prefix) =>
      createRedisCoordination({ url, prefix: instancePrefix, onError: () => {} });

    it('shares cache, locks, limits and channels between instances', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      try {
        await a.cache.set('shared', { from: 'a' }, 10_000);
        expect(await b.cache.get('shared')).toEqual({ from: 'a' });

        const lock = await a.locks.acquire('shared-lock', { ttlMs: 10_000 });
        expect(await b.locks.tryAcquire('shared-lock', { ttlMs: 10_000 })).toBeUndefined();
        await lock.release();

        const session = await a.sessions.create('shared-user', { n: 1 });
        expect(await b.sessions.get(session.token)).toMatchObject({ data: { n: 1 } });

        const received: unknown[] = [];
        const subscription = await b.pubsub.subscribe(
          'tenant',
          'news',
          (message) => void received.push(message),
        );
        await a.pubsub.publish('tenant', 'news', 'hello from a');
        await expect.poll(() => received).toEqual(['hello from a']);
        await subscription.unsubscribe();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('500 consumes spread over 5 instances against a limit of 100: exactly 100 allowed', async () => {
      const instances = await Promise.all(Array.from({ length: 5 }, () => open()));
      try {
        const limiters = instances.map((c) =>
          c.rateLimiter({ name: 'spread', limit: 100, windowMs: 60_000 }),
        );
        const results = await Promise.all(
          Array.from({ length: 500 }, (_, i) =>
            (limiters[i % 5] as (typeof limiters)[number]).consume('one-key'),
          ),
        );
        expect(results.filter((result) => result.allowed)).toHaveLength(100);
      } finally {
        await Promise.all(instances.map((c) => c.close()));
      }
    });

    it('mutual exclusion holds for 20 contenders on 20 connections', async () => {
      const contenders: Coordination[] = await Promise.all(Array.from({ length: 20 }, () => open()));
      try {
        const counterKey = 'counter';
        await contenders[0]?.cache.set(counterKey, 0, 60_000);
        await Promise.all(
          contenders.map(async (c) => {
            for (let i = 0; i < 3; i++) {
              await c.locks.withLock(
                'counter-lock',
                { ttlMs: 5000, waitMs: 20_000, retryDelayMs: 5 },
                async () => {
                  // The counter lives in Redis: a cross-connection read-modify-write.
                  const value = (await c.cache.get<number>(counterKey)) ?? Number.NaN;
                  await c.cache.set(counterKey, value + 1, 60_000);
                },
              );
            }
          }),
        );
        expect(await contenders[0]?.cache.get(counterKey)).toBe(60);
      } finally {
        await Promise.all(contenders.map((c) => c.close()));
      }
    });

    it('a rate-limit key outlives its TAT (so no budget comes back early), then expires', async () => {
      const c = await open();
      try {
        const limiter = c.rateLimiter({ name: 'expiry', limit: 5, windowMs: 50 });
        const key = `${prefix}:rate:expiry:k`;
        // Faster than the rate: the TAT runs ahead and crosses expiry slots.
        for (let i = 0; i < 30; i++) {
          const result = await limiter.consume('k');
          const ttl = await c.client.pTTL(key);
          expect(ttl).toBeGreaterThanOrEqual(result.resetAfterMs - 2);
          expect(ttl).toBeLessThanOrEqual(result.resetAfterMs + 2 * 50 + 2);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await expect.poll(() => c.client.exists(key), { timeout: 1000, interval: 20 }).toBe(0);
      } finally {
        await c.close();
      }
    });

    it('prefixes cannot nest: one holding ":" is refused, one extending another shares nothing with it', async () => {
      const base = uniquePrefix('nest');
      const mine = await open(base);
      const refused: string[] = [];
      try {
        // `${base}:cache:other` would have stored its entries among base's cache entries (where
        // base's clearPattern('*') deleted them), its channels among base's channels, and so on.
        for (const nested of [
          `${base}:cache:other`,
          `${base}:channel:t`,
          `${base}-eu`,
          `${base}.cache.other`,
        ]) {
          let other: Coordination & { client: CoordinationRedisClient };
          try {
            other = await open(nested);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigurationError);
            refused.push(nested);
            continue;
          }
          try {
            await expectIsolated(mine, base, other, nested);
            await expectIsolated(other, nested, mine, base);
          } finally {
            await other.close();
            await deleteKeysWithPrefix(url, nested);
          }
        }
      } finally {
        await mine.close();
        await deleteKeysWithPrefix(url, base);
      }
      expect(refused).toEqual([`${base}:cache:other`, `${base}:channel:t`]);
    });

    it('namespaces every key under the prefix: other prefixes see nothing', async () => {
      const otherPrefix = uniquePrefix('other');
      const [mine, other] = await Promise.all([open(), open(otherPrefix)]);
      try {
        await mine.cache.set('ns-key', 'mine', 10_000);
        await mine.rateLimiter({ name: 'ns', limit: 1, windowMs: 60_000 }).consume('k');
        expect(await other.cache.get('ns-key')).toBeUndefined();
        expect(
          (await other.rateLimiter({ name: 'ns', limit: 1, windowMs: 60_000 }).consume('k')).allowed,
        ).toBe(true);
        expect(await other.cache.clearPattern('*')).toBe(0);
        expect(await mine.cache.get('ns-key')).toBe('mine');
        const keys: string[] = [];
        for await (const batch of mine.client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 }))
          keys.push(...batch);
        expect(keys).toContain(`${prefix}:cache:ns-key`);
      } finally {
        await Promise.all([mine.close(), other.close()]);
        await deleteKeysWithPrefix(url, otherPrefix);
      }
    });
  });
}
