import { afterAll, describe, expect, it } from 'vitest';
import { type Coordination, createRedisCoordination } from '../../src/coordination/index.ts';
import { describeCoordinationContract } from './contract.ts';
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

  describeCoordinationContract({
    name: `redis adapter (${target.origin})`,
    open: ({ onError }) => createRedisCoordination({ url, prefix, onError }),
  });

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
