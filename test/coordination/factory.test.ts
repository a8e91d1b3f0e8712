import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createCoordination,
  createMemoryCoordination,
  createRedisCoordination,
} from '../../src/coordination/index.ts';
import { ConfigurationError } from '../../src/errors/index.ts';
import { resolveRedis } from './redis-harness.ts';

const savedRedisUrl = process.env.REDIS_URL;
const target = await resolveRedis();

afterAll(async () => {
  if (target.url !== undefined) await target.stop();
});

afterEach(() => {
  if (savedRedisUrl === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = savedRedisUrl;
});

describe('createCoordination', () => {
  it('uses the memory adapter without a Redis URL', async () => {
    delete process.env.REDIS_URL;
    const coordination = await createCoordination();
    expect(coordination.backend).toBe('memory');
    await coordination.close();
    await coordination.close(); // idempotent
  });

  it.skipIf(target.url === undefined)('uses Redis when given a URL, or when REDIS_URL is set', async () => {
    const url = target.url as string;
    delete process.env.REDIS_URL;
    const explicit = await createCoordination({
      redisUrl: url,
      prefix: 'agentflow-test.factory',
      onError: () => {},
    });
    expect(explicit.backend).toBe('redis');
    await explicit.close();
    process.env.REDIS_URL = url;
    const fromEnvironment = await createCoordination({ prefix: 'agentflow-test.factory', onError: () => {} });
    expect(fromEnvironment.backend).toBe('redis');
    await fromEnvironment.close();
  });

  it('rejects bad options with ConfigurationError, whichever adapter is selected', async () => {
    delete process.env.REDIS_URL;
    const bad = [
      { prefix: 'has space' },
      // ":" ends a prefix in every key: `acme:cache:other` would live inside `acme`'s cache.
      { prefix: 'acme:cache:other' },
      { prefix: '' },
      { sessionTtlMs: 0 },
      { commandTimeoutMs: -1 },
      { redisUrl: 'http://localhost:6379' },
      { prefx: 'typo' },
      { onError: 'console' },
    ];
    for (const options of bad) {
      await expect(createCoordination(options as never)).rejects.toBeInstanceOf(ConfigurationError);
    }
    expect(() => createMemoryCoordination({ prefix: 'a b' })).toThrow(ConfigurationError);
    await expect(createRedisCoordination({ url: 'localhost:6379' })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await expect(
      createRedisCoordination({ url: 'redis://127.0.0.1:6379', healthCheckIntervalMs: 0 }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });
});
