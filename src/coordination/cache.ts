import { randomBytes } from 'node:crypto';
import { CoordinationUnavailableError } from './errors.ts';
import type { ErrorReporter } from './report-error.ts';
import { assertFunction, assertName, assertNames, assertPositiveInteger, encodeJson } from './validation.ts';

export interface CacheSetOptions {
  /** Time to live in milliseconds; every entry expires. */
  ttlMs: number;
  /** Tags the entry depends on: `invalidateTags` on any of them makes it a miss. */
  tags?: readonly string[];
}

/** A TTL in milliseconds, or the full options. */
export type CacheTtl = number | CacheSetOptions;

export interface CachedOptions<A extends unknown[]> {
  key: (...args: A) => string;
  ttlMs: number;
  tags?: (...args: A) => readonly string[];
}

/**
 * JSON cache with TTLs and tag invalidation. Reads and writes fail open: when the store is
 * unreachable a read is a miss and a write is skipped (both reported to `onError`), so the
 * application keeps working on its source of truth. Invalidation fails closed (it throws),
 * because silently skipping it would leave stale data behind.
 */
export interface Cache {
  /** The cached value, or `undefined` on a miss (absent, expired, invalidated or unreachable). */
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttl: CacheTtl): Promise<void>;
  /** Removes one entry; true when it existed. Throws when the store is unreachable. */
  delete(key: string): Promise<boolean>;
  /**
   * The cached value, or the loader's result (cached unless it is `undefined`). Concurrent calls
   * for the same key in this process share one read and one loader call (single flight), and
   * so share the returned value.
   */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, ttl: CacheTtl): Promise<T>;
  /** Every entry written with one of these tags becomes a miss, without scanning the keyspace. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /**
   * Deletes the entries whose key matches a Redis glob (`user:*`) and returns how many. It walks
   * the keyspace with SCAN (never KEYS), so it is O(keys): for operators, not request paths.
   */
  clearPattern(pattern: string): Promise<number>;
  /** Wraps a function so that its results are cached under `key(...args)` (see getOrSet). */
  cached<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: CachedOptions<A>,
  ): (...args: A) => Promise<R>;
}

/**
 * What an adapter stores. Entries are opaque strings; a tag version is an opaque string that is
 * never reused for the same tag, and a missing version means "invalidated".
 */
export interface CacheStore {
  /** May reject with any error: the cache serves every failed read as a miss. */
  get(key: string): Promise<string | null>;
  set(key: string, entry: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** The current version of each tag, set to `candidate` where missing, kept alive ≥ ttlMs. */
  claimTagVersions(tags: readonly string[], candidate: string, ttlMs: number): Promise<string[]>;
  readTagVersions(tags: readonly string[]): Promise<(string | undefined)[]>;
  deleteTags(tags: readonly string[]): Promise<void>;
  deleteMatching(pattern: string): Promise<number>;
}

/**
 * An untagged entry is the value's JSON itself, so a hit costs one JSON.parse of the value and
 * nothing else. A tagged entry is `#` + {tag: version} + newline + the value's JSON: JSON text
 * never starts with `#`, and JSON.stringify never outputs a raw newline, so both are unambiguous.
 */
const TAGGED = '#';
const TAGGED_CODE = TAGGED.charCodeAt(0);

interface NormalisedTtl {
  ttlMs: number;
  tags: readonly string[];
}

const NO_TAGS: readonly string[] = [];

function normaliseTtl(ttl: CacheTtl): NormalisedTtl {
  const options = typeof ttl === 'number' ? { ttlMs: ttl } : ttl;
  assertPositiveInteger(options?.ttlMs, 'ttlMs');
  const tags = options.tags ?? NO_TAGS;
  assertNames(tags, 'tags');
  return { ttlMs: options.ttlMs, tags };
}

// Versions only need to differ from every earlier version of the same tag: a random per-process
// nonce plus a counter is unique across processes and cheaper than a UUID per write.
const versionNonce = randomBytes(6).toString('base64url');
let versionCounter = 0;
function nextVersion(): string {
  versionCounter += 1;
  return `${versionNonce}${versionCounter.toString(36)}`;
}

export class CoordinationCache implements Cache {
  readonly #store: CacheStore;
  readonly #report: ErrorReporter;
  readonly #flights = new Map<string, Promise<unknown>>();

  constructor(store: CacheStore, report: ErrorReporter) {
    this.#store = store;
    this.#report = report;
  }

  // Not async, like #read: a hit costs the store's promise and one `then`, nothing more.
  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      assertName(key, 'key');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read<T>(key);
  }

  async set(key: string, value: unknown, ttl: CacheTtl): Promise<void> {
    assertName(key, 'key');
    const { ttlMs, tags } = normaliseTtl(ttl);
    const json = encodeJson(value, 'value');
    const versions = await this.#claim(tags, ttlMs);
    if (versions) await this.#write(key, json, ttlMs, tags, versions);
  }

  async delete(key: string): Promise<boolean> {
    assertName(key, 'key');
    return this.#store.delete(key);
  }

  async getOrSet<T>(key: string, loader: () => T | Promise<T>, ttl: CacheTtl): Promise<T> {
    assertName(key, 'key');
    assertFunction(loader, 'loader');
    const options = normaliseTtl(ttl);
    const pending = this.#flights.get(key);
    if (pending) return pending as Promise<T>;
    const flight = (async () => {
      try {
        return await this.#load(key, loader, options);
      } finally {
        this.#flights.delete(key);
      }
    })();
    this.#flights.set(key, flight);
    return flight;
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    assertNames(tags, 'tags');
    if (tags.length > 0) await this.#store.deleteTags(tags);
  }

  async clearPattern(pattern: string): Promise<number> {
    assertName(pattern, 'pattern');
    return this.#store.deleteMatching(pattern);
  }

  cached<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: CachedOptions<A>,
  ): (...args: A) => Promise<R> {
    assertFunction(fn, 'fn');
    assertFunction(options.key, 'key');
    assertPositiveInteger(options.ttlMs, 'ttlMs');
    const { key, ttlMs, tags } = options;
    return (...args: A) =>
      this.getOrSet(key(...args), () => fn(...args), tags ? { ttlMs, tags: tags(...args) } : ttlMs);
  }

  async #load<T>(key: string, loader: () => T | Promise<T>, { ttlMs, tags }: NormalisedTtl): Promise<T> {
    const hit = await this.#read<T>(key);
    if (hit !== undefined) return hit;
    // Versions are taken before loading: an invalidation that lands while the loader runs
    // changes them, so the value written below is already stale and can never be served.
    const versions = await this.#claim(tags, ttlMs);
    const value = await loader();
    if (value === undefined) return value;
    const json = encodeJson(value, 'loaded value');
    if (versions) await this.#write(key, json, ttlMs, tags, versions);
    return value;
  }

  #read<T>(key: string): Promise<T | undefined> {
    return this.#store.get(key).then(this.#decode, this.#missOnFailure) as Promise<T | undefined>;
  }

  readonly #decode = (raw: string | null): unknown => {
    if (raw === null) return undefined;
    try {
      if (raw.charCodeAt(0) !== TAGGED_CODE) return JSON.parse(raw);
      const newline = raw.indexOf('\n');
      const versions = JSON.parse(raw.slice(1, newline)) as Record<string, string>;
      const value: unknown = JSON.parse(raw.slice(newline + 1));
      return this.#isFresh(versions).then((fresh) => (fresh ? value : undefined), this.#missOnFailure);
    } catch (error) {
      return this.#missOnFailure(error);
    }
  };

  readonly #missOnFailure = (error: unknown): undefined => {
    this.#report(error as Error, 'cache read served as a miss');
    return undefined;
  };

  async #isFresh(versions: Record<string, string>): Promise<boolean> {
    const tags = Object.keys(versions);
    const current = await this.#store.readTagVersions(tags);
    return tags.every((tag, i) => current[i] === versions[tag]);
  }

  /** The tags' versions, `[]` without tags, or undefined when the store is unreachable. */
  async #claim(tags: readonly string[], ttlMs: number): Promise<string[] | undefined> {
    if (tags.length === 0) return [];
    try {
      return await this.#store.claimTagVersions(tags, nextVersion(), ttlMs);
    } catch (error) {
      this.#failOpen(error, 'cache write skipped (tag versions unavailable)');
      return undefined;
    }
  }

  async #write(key: string, json: string, ttlMs: number, tags: readonly string[], versions: string[]) {
    let entry = json;
    if (tags.length > 0) {
      const byTag: Record<string, string> = {};
      tags.forEach((tag, i) => {
        byTag[tag] = versions[i] as string;
      });
      entry = `${TAGGED}${JSON.stringify(byTag)}\n${json}`;
    }
    try {
      await this.#store.set(key, entry, ttlMs);
    } catch (error) {
      this.#failOpen(error, 'cache write skipped');
    }
  }

  #failOpen(error: unknown, context: string): void {
    if (!(error instanceof CoordinationUnavailableError)) throw error;
    this.#report(error, context);
  }
}
