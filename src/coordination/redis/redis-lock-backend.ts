import type { LockBackend } from '../locks.ts';
import type { RedisConnection } from './redis-connection.ts';
import { rethrowUnavailable } from './unavailable.ts';

const acquireFailed = rethrowUnavailable('lock acquire script');
const extendFailed = rethrowUnavailable('lock extend script');
const releaseFailed = rethrowUnavailable('lock release script');

export class RedisLockBackend implements LockBackend {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #fencingCounter: string;

  constructor(connection: RedisConnection, prefix: string, fencingCounter: string) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#fencingCounter = fencingCounter;
  }

  async tryAcquire(name: string, token: string, ttlMs: number): Promise<number | undefined> {
    const client = this.#connection.client;
    const fencingToken = await client
      .lockAcquire(this.#prefix + name, this.#fencingCounter, token, ttlMs)
      .catch(acquireFailed);
    return fencingToken ?? undefined;
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.#connection.client.lockExtend(this.#prefix + name, token, ttlMs).catch(extendFailed)) === 1
    );
  }

  async release(name: string, token: string): Promise<boolean> {
    return (await this.#connection.client.lockRelease(this.#prefix + name, token).catch(releaseFailed)) === 1;
  }
}
