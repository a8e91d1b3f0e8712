import { type Coordination, StoreCoordination } from '../coordination.ts';
import { type CommonCoordinationOptions, commonOptionsSchema, parseOptions } from '../options.ts';
import { MemoryCacheStore } from './memory-cache-store.ts';
import { MemoryLockBackend } from './memory-lock-backend.ts';
import { MemoryPubSubTransport } from './memory-pubsub-transport.ts';
import { MemoryRateLimitStore } from './memory-rate-limit-store.ts';
import { MemorySessionBackend } from './memory-session-backend.ts';

/**
 * The embedded adapter: everything in this process's memory, nothing to run. Correct for one
 * process only — two processes each get their own locks, limits and channels. The prefix is
 * validated but unused: nothing is shared, so there is nothing to namespace.
 */
export function createMemoryCoordination(options: CommonCoordinationOptions = {}): Coordination {
  const { sessionTtlMs, onError } = parseOptions(commonOptionsSchema, options);
  const rateLimitStore = new MemoryRateLimitStore();
  return new StoreCoordination({
    backend: 'memory',
    cacheStore: new MemoryCacheStore(),
    rateLimitStore,
    localRateLimitStore: rateLimitStore,
    sessionBackend: new MemorySessionBackend(),
    lockBackend: new MemoryLockBackend(),
    pubsubTransport: new MemoryPubSubTransport(),
    sessionTtlMs,
    report: onError,
    ping: async () => {},
    close: async () => {},
  });
}
