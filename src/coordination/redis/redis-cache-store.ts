import type { CacheStore } from '../cache.ts';
import { escapeGlob } from '../glob.ts';
import type { RedisConnection } from './redis-connection.ts';
import { rethrowUnavailable, unavailable } from './unavailable.ts';

const SCAN_BATCH = 500;
const setFailed = rethrowUnavailable('SET');
const unlinkFailed = rethrowUnavailable('UNLINK');
const mgetFailed = rethrowUnavailable('MGET');
const claimFailed = rethrowUnavailable('tag versions script');

function nullToUndefined<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

export class RedisCacheStore implements CacheStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #tagPrefix: string;

  constructor(connection: RedisConnection, prefix: string, tagPrefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#tagPrefix = tagPrefix;
  }

  // The hot path: the GET's own promise, untouched (the cache reports whatever it rejects with).
  get(key: string): Promise<string | null> {
    return this.#connection.client.get(this.#prefix + key);
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    await this.#connection.client
      .set(this.#prefix + key, entry, { expiration: { type: 'PX', value: ttlMs } })
      .catch(setFailed);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#connection.client.unlink(this.#prefix + key).catch(unlinkFailed)) > 0;
  }

  claimTagVersions(tags: readonly string[], candidate: string, ttlMs: number): Promise<string[]> {
    return this.#connection.client.claimTagVersions(this.#tagKeys(tags), candidate, ttlMs).catch(claimFailed);
  }

  async readTagVersions(tags: readonly string[]): Promise<(string | undefined)[]> {
    return (await this.#connection.client.mGet(this.#tagKeys(tags)).catch(mgetFailed)).map(nullToUndefined);
  }

  async deleteTags(tags: readonly string[]): Promise<void> {
    await this.#connection.client.unlink(this.#tagKeys(tags)).catch(unlinkFailed);
  }

  async deleteMatching(pattern: string): Promise<number> {
    const client = this.#connection.client;
    let deleted = 0;
    try {
      // SCAN walks the keyspace in small steps between other clients' commands; KEYS would
      // block the server for the whole walk.
      for await (const keys of client.scanIterator({
        MATCH: escapeGlob(this.#prefix) + pattern,
        COUNT: SCAN_BATCH,
      })) {
        if (keys.length > 0) deleted += await client.unlink(keys);
      }
    } catch (error) {
      throw unavailable('SCAN', error);
    }
    return deleted;
  }

  #tagKeys(tags: readonly string[]): string[] {
    return tags.map((tag) => this.#tagPrefix + tag);
  }
}
