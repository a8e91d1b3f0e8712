import type { CacheStore } from '../cache.ts';
import { globToRegExp } from '../glob.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemoryCacheStore implements CacheStore {
  readonly #entries = new ExpiringMap<string>();
  readonly #tagVersions = new ExpiringMap<string>();

  async get(key: string): Promise<string | null> {
    return this.#entries.get(key) ?? null;
  }

  async set(key: string, entry: string, ttlMs: number): Promise<void> {
    this.#entries.set(key, entry, Date.now() + ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    return this.#entries.delete(key);
  }

  async claimTagVersions(tags: readonly string[], candidate: string, ttlMs: number): Promise<string[]> {
    const expiresAt = Date.now() + ttlMs;
    return tags.map((tag) => {
      const slot = this.#tagVersions.slot(tag);
      const version = slot?.value ?? candidate;
      this.#tagVersions.set(tag, version, Math.max(slot?.expiresAt ?? 0, expiresAt));
      return version;
    });
  }

  async readTagVersions(tags: readonly string[]): Promise<(string | undefined)[]> {
    return tags.map((tag) => this.#tagVersions.get(tag));
  }

  async deleteTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) this.#tagVersions.delete(tag);
  }

  async deleteMatching(pattern: string): Promise<number> {
    const matcher = globToRegExp(pattern);
    let deleted = 0;
    for (const key of this.#entries.keys()) {
      if (matcher.test(key) && this.#entries.delete(key)) deleted += 1;
    }
    return deleted;
  }
}
