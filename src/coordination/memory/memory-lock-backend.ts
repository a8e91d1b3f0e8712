import type { LockBackend } from '../locks.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemoryLockBackend implements LockBackend {
  readonly #tokens = new ExpiringMap<string>();
  #fencingCounter = 0;

  async tryAcquire(name: string, token: string, ttlMs: number): Promise<number | undefined> {
    if (this.#tokens.get(name) !== undefined) return undefined;
    this.#tokens.set(name, token, Date.now() + ttlMs);
    this.#fencingCounter += 1;
    return this.#fencingCounter;
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.#tokens.get(name) !== token) return false;
    this.#tokens.set(name, token, Date.now() + ttlMs);
    return true;
  }

  async release(name: string, token: string): Promise<boolean> {
    return this.#tokens.get(name) === token && this.#tokens.delete(name);
  }
}
