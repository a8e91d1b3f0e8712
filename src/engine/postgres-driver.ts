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

/** Exact passages of a reviewed module, each with its replacement. */
type Patches = readonly (readonly [original: string, replacement: string])[];

/**
 * postgres.js 3.4.9's reserve() assumes its connection never closes. When the server drops it:
 * statements waiting in the reservation's own queue hang for good; later ones are written to the
 * closed socket (an uncaught `TypeError: Cannot read properties of null (reading 'write')` that
 * ends the process) or to the same connection reopened for someone else's reservation (another
 * tenant's transaction); release() hands the connection to the pool a second time; a reserve()
 * waiting for a connection is dropped from the line (it hangs for good) when the pool reconnects
 * for it; and one whose connection attempt failed stays in the line, to be handed a connection
 * later that nobody releases. Each replacement below fixes that and nothing else.
 */
const INDEX_PATCHES: Patches = [
  // A waiting reserve() that is rejected (its connection attempt failed) leaves the line.
  [
    `        const query = { reserve: resolve, reject }`,
    `        const query = { reserve: resolve, reject: error => (queries.remove(query), reject(error)) }`,
  ],
  // The reservation ends for good when its connection closes: the pool's onclose clears
  // c.reserved and calls c.onclose (the hook sql.begin() uses).
  [
    `    move(c, reserved)
    c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true

    const sql = Sql(handler)
    sql.release = () => {
      c.reserved = null
      onopen(c)
    }

    return sql

    function handler(q) {
      c.queue === full`,
    `    move(c, reserved)
    const reservation = c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true
    let lost = null
    c.onclose = error => {
      lost = error
      while (queue.length)
        queue.shift().reject(error)
    }

    const sql = Sql(handler)
    sql.release = () => {
      if (c.reserved !== reservation)
        return
      c.reserved = null
      c.onclose = null
      onopen(c)
    }

    return sql

    function handler(q) {
      if (c.reserved !== reservation)
        return q.reject(lost || Errors.generic('RESERVATION_RELEASED', 'this reserved connection was released'))
      c.queue === full`,
  ],
  // A waiting reserve() is handed its connection from the line once one opens: it stays in it.
  [
    `    queries.length && connect(c, queries.shift())
  }
}`,
    `    if (queries.length) {
      const query = queries.shift()
      query.reserve && queries.push(query)
      connect(c, query)
    }
  }
}`,
  ],
];

/**
 * postgres.js 3.4.9's connection, when its socket closes after an error (a reset, as a killed
 * backend often gives), rejects only what was running when the error came: a statement sent in
 * between (the ROLLBACK of the unit that error failed) waits for good, and is taken for the reply
 * to the next connection's first statement. It also keeps the statement that was running, the
 * error the server sent for it (a FATAL "terminating connection") and bytes not yet written: once
 * reconnected it fails the request it was reopened for with that stale error, or sends the stale
 * bytes ahead of its start-up message. And the type lookup it runs on every new connection is a
 * promise nobody handles: a connection closing during it was an unhandled rejection.
 */
const CONNECTION_PATCHES: Patches = [
  [
    `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
    `    if (query || sent.length)
      error(Errors.connection('CONNECTION_CLOSED', options, socket))
    query = errorResponse = chunk = null
`,
  ],
  // The close itself is handled by closed(), which reconnects or reports to the pool.
  [`        return fetchArrayTypes()`, `        return fetchArrayTypes().catch(noop)`],
];

/** sha256 of the postgres.js modules these patches were written against (3.4.9). */
const KNOWN_SHA256 = {
  'index.js': 'd8fea1a5311c47e65004646bc81f57305ac64d48f99004a5b3ca27bcfc6babf8',
  'connection.js': 'ce6d375809baad79963ef9b3773e6ac757bcf6da2362d4d85482bb14c2c751be',
} as const;

/** The module's source with every patch applied, or undefined unless it is the reviewed one. */
function patchedSource(file: keyof typeof KNOWN_SHA256, patches: Patches): string | undefined {
  let source = readFileSync(join(dirname(entry), file), 'utf8');
  if (createHash('sha256').update(source).digest('hex') !== KNOWN_SHA256[file]) return undefined;
  for (const [original, replacement] of patches) {
    if (source.split(original).length !== 2) return undefined;
    source = source.replace(original, () => replacement);
  }
  return source;
}

/** Compiles `source` as the module at `path` into the require cache, where postgres.js finds it. */
function install(path: string, source: string): Module {
  const replacement = new Module(path) as Module & { _compile(content: string, filename: string): void };
  replacement.filename = path;
  // Its requires (./queue.js, …) resolve from its own folder, as the original's do.
  replacement.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(
    dirname(path),
  );
  require.cache[path] = replacement;
  try {
    replacement._compile(source, path);
  } catch (error) {
    delete require.cache[path];
    throw error;
  }
  replacement.loaded = true;
  return replacement;
}

const SAFE_RESERVE = Symbol.for('agentflow.safeReserve');

/**
 * Whether this process's postgres.js has the patched reserve() and connection. Like the queue,
 * only the exact modules reviewed are patched (compiled from their own source with the passages
 * above replaced), both or neither, and only before postgres.js is first loaded; any other
 * version keeps its own and a test fails.
 */
export const usesSafeReserve: boolean = (() => {
  const cached = require.cache[entry];
  if (cached) return (cached.exports as Record<symbol, unknown>)[SAFE_RESERVE] === true;
  const connection = patchedSource('connection.js', CONNECTION_PATCHES);
  const index = patchedSource('index.js', INDEX_PATCHES);
  if (connection === undefined || index === undefined) return false;
  install(join(dirname(entry), 'connection.js'), connection);
  Object.defineProperty(install(entry, index).exports, SAFE_RESERVE, { value: true });
  return true;
})();

/** postgres.js, loaded once for every pool this library opens (and its benchmark's raw side). */
export const postgres: typeof postgresModule = require('postgres');
