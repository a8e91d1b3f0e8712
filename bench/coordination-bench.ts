/**
 * Throughput of the Redis coordination hot paths against a bare GET on the same client, in
 * one run: rate-limiter consume (GCRA script) and cache get on a hit (GET + JSON.parse).
 * 100 concurrent callers; each round runs the three back to back, and the medians of the
 * per-round ratios are compared with the targets.
 *
 *   npx tsx bench/coordination-bench.ts        (REDIS_URL, else redis://127.0.0.1:6379)
 *
 * Exits 1 when a target is missed: consume ≥ 0.5× and cache hit ≥ 0.7× the bare GET rate.
 */
import { createRedisCoordination } from '../src/coordination/index.ts';

const CALLERS = 100;
const ROUNDS = 5;
const ROUND_MS = 1000;
const WARMUP_MS = 500;
const TARGETS = { consume: 0.5, cacheHit: 0.7 } as const;

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = `agentflow-bench.${process.pid}`;
const coordination = await createRedisCoordination({ url, prefix });
const client = coordination.client;

// A typical small cached document (an API key's owner and scopes), stored the same way for
// both reads: a cache entry without tags is the value's JSON.
const document = {
  agentId: '0b6f3c1e-8a51-4f7e-9d2a-5c4b3a291807',
  tenant: 'acme',
  scopes: ['tasks:read', 'tasks:write'],
};
const json = JSON.stringify(document);
const bareKey = `${prefix}:bare`;
await client.set(bareKey, json);
await coordination.cache.set('hot', document, 10 * 60_000);
const limiter = coordination.rateLimiter({ name: 'bench', limit: 1_000_000_000, windowMs: 3_600_000 });

// Every operation checks its result the same way, so the harness costs them all the same.
let anomalies = 0;
const callerKeys = Array.from({ length: CALLERS }, (_, caller) => `caller-${caller}`);
const operations: Record<string, (caller: number) => Promise<void>> = {
  'bare GET': async () => {
    if ((await client.get(bareKey)) === null) anomalies += 1;
  },
  'cache get (hit)': async () => {
    if ((await coordination.cache.get('hot')) === undefined) anomalies += 1;
  },
  'rate limiter consume': async (caller) => {
    if (!(await limiter.consume(callerKeys[caller] as string)).allowed) anomalies += 1;
  },
};

async function opsPerSecond(
  operation: (caller: number) => Promise<unknown>,
  durationMs: number,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      while (performance.now() < end) {
        await operation(caller);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

// Each round measures the three back to back and yields ratios to that round's bare GET, so a
// change of load between rounds (a shared machine) moves both sides of a ratio together.
const rates = new Map<string, number[]>(Object.keys(operations).map((name) => [name, []]));
const ratios = new Map<string, number[]>(Object.keys(operations).map((name) => [name, []]));
try {
  for (const operation of Object.values(operations)) await opsPerSecond(operation, WARMUP_MS);
  for (let round = 0; round < ROUNDS; round++) {
    const measured = new Map<string, number>();
    for (const [name, operation] of Object.entries(operations))
      measured.set(name, await opsPerSecond(operation, ROUND_MS));
    const bare = measured.get('bare GET') as number;
    for (const [name, rate] of measured) {
      rates.get(name)?.push(rate);
      ratios.get(name)?.push(rate / bare);
    }
  }
} finally {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) {
    if (keys.length > 0) await client.unlink(keys);
  }
  await coordination.close();
}

const rows = [
  { operation: 'bare GET', target: undefined },
  { operation: 'cache get (hit)', target: TARGETS.cacheHit },
  { operation: 'rate limiter consume', target: TARGETS.consume },
].map(({ operation, target }) => {
  const ratio = median(ratios.get(operation) ?? []);
  return {
    operation,
    'ops/s (median)': Math.round(median(rates.get(operation) ?? [])),
    'vs bare GET (median of rounds)': ratio.toFixed(2),
    target: target === undefined ? '' : `≥ ${target}`,
    met: target === undefined ? '' : ratio >= target ? 'yes' : 'NO',
  };
});

console.log(
  `Redis ${url}, ${CALLERS} concurrent callers, ${ROUNDS} rounds of ${ROUND_MS} ms each, cached value ${json.length} bytes of JSON`,
);
console.table(rows);
if (anomalies > 0)
  console.error(`${anomalies} cache misses or denied consumes: the benchmark measured the wrong path`);
const missed = rows.filter((row) => row.met === 'NO').map((row) => row.operation);
if (missed.length > 0 || anomalies > 0) {
  console.error(`target missed: ${missed.join(', ') || 'see above'}`);
  process.exit(1);
}
