import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import type postgresModule from 'postgres';

export interface DriverQueue<Item> {
  readonly length: number;
  /** Array slots held, consumed ones included: what the original let grow without bound. */
  readonly slots: number;
  push(item: Item): Item;
  shift(): Item | undefined;
  remove(item: Item): Item | null;
}

/**
 * The FIFO queue postgres.js keeps its connections in, with the same behaviour as its own except
 * that the consumed head is dropped once it is at least half the array. postgres.js 3.4.9 only
 * resets the array when it empties: a pool that always keeps one connection idle (any traffic
 * below the pool size) grows it by one slot per transaction, and every reserve() scans it with
 * indexOf, so each unit of work cost more than the one before (5 µs, then 139 µs after 400,000).
 */
export function compactingQueue<Item>(initial: readonly Item[] = []): DriverQueue<Item> {
  let items: (Item | undefined)[] = initial.slice();
  let head = 0;
  return {
    get length() {
      return items.length - head;
    },
    get slots() {
      return items.length;
    },
    push(item) {
      items.push(item);
      return item;
    },
    shift() {
      const item = items[head];
      head++;
      if (head >= items.length) {
        items = [];
        head = 0;
      } else if (head >= 32 && head * 2 >= items.length) {
        items = items.slice(head);
        head = 0;
      } else {
        items[head - 1] = undefined;
      }
      return item;
    },
    remove(item) {
      const index = items.indexOf(item, head);
      if (index === -1) return null;
      items.splice(index, 1);
      return item;
    },
  };
}

compactingQueue.compacting = true as const;

/** sha256 of the postgres.js queue module this replacement was checked against (3.4.9). */
const KNOWN_QUEUE_SHA256 = '7d20fa53a3930be070609d7912ecd14c347df3526805bca2f6cb7eb35d2e62cf';

const require = createRequire(import.meta.url);
const entry = require.resolve('postgres');
const queuePath = join(dirname(entry), 'queue.js');

/**
 * Whether this process's postgres.js uses the compacting queue. Only the exact queue module
 * reviewed is replaced, and only before postgres.js is first loaded through require: any other
 * version keeps its own, and a test fails so that the next upgrade is looked at.
 */
export const usesCompactingQueue: boolean = (() => {
  // By mark, not identity: a second copy of this module (another copy of the library) installs none.
  if (require.cache[entry])
    return (require.cache[queuePath]?.exports as typeof compactingQueue)?.compacting === true;
  const source = readFileSync(queuePath);
  if (createHash('sha256').update(source).digest('hex') !== KNOWN_QUEUE_SHA256) return false;
  const replacement = new Module(queuePath);
  replacement.filename = queuePath;
  replacement.exports = compactingQueue;
  replacement.loaded = true;
  require.cache[queuePath] = replacement;
  return true;
})();

/** postgres.js, loaded once for every pool this library opens (and its benchmark's raw side). */
export const postgres: typeof postgresModule = require('postgres');
