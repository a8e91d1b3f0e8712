/**
 * Server engine: API key verification (`store.authenticate`), in one run.
 *
 * - authenticate, 1 caller: p50 / p95 of `store.authenticate(key)`: one single-statement unit
 *   (BEGIN, set-up, the verification function, COMMIT in one write), the usage row included.
 * - bare function call, 1 caller: p50 / p95 of `SELECT … FROM agentflow.authenticate_agent_key(…)`
 *   sent alone on a raw postgres.js connection (autocommit, synchronous_commit off as
 *   store.authenticate commits): the floor of one round trip.
 * - server time per verification: 2,000 calls of the function in one DO block timed with
 *   clock_timestamp() on the server: no network, no commit.
 * - throughput: verifications/s with 64 concurrent callers over a pool of 16, spread over 100
 *   keys, and all on one key (its row is read by every call; last_used_at moves once a minute).
 *
 * Targets (issue 11): p50 ≤ 1 ms for store.authenticate and for the bare call, over loopback (the
 * least network there is; the server time shows the rest), and ≥ 2,000 verifications/s. Exits non-zero when one is missed.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/keys-bench.ts
 *
 * Creates its own database `bench_keys` on that server, and drops it.
 */
import { performance } from 'node:perf_hooks';
import { hashKeySecret, parseAgentKey } from '../src/agents/agent-credentials.keys.ts';
import { postgres } from '../src/engine/postgres-driver.ts';
import { openStore, type Store } from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_keys';
const KEYS = 100;
const SAMPLES = 2000;
const SERVER_LOOP = 2000;
const CALLERS = 64;
const POOL = 16;
const THROUGHPUT_OPS = 10_000;

const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function sample(count: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op(i);
    times.push(performance.now() - started);
  }
  return times;
}

async function throughput(
  ops: number,
  callers: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

async function seedKeys(store: Store): Promise<string[]> {
  const tenant = await store.asService({ actor: 'bench' }, (svc) =>
    svc.tenants.create({ slug: 'bench', name: 'Bench', status: 'active' }),
  );
  const agentIds = await store.asService({ actor: 'bench' }, (svc) =>
    svc.query<{ id: string }>(
      `INSERT INTO agents (tenant_id, level, type, code, name, role_title)
       SELECT $1, 'organization', 'backend_dev', 'agent-' || i, 'Agent ' || i, 'Developer'
         FROM generate_series(1, 10) AS i RETURNING id`,
      [tenant.id],
    ),
  );
  const keys: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const issued = await store.asService({ actor: 'bench' }, (svc) =>
      svc.agentCredentials.issue(tenant.id, { agentId: agentIds[i % agentIds.length]!.id }),
    );
    keys.push(issued.key.reveal());
  }
  return keys;
}

async function run(): Promise<boolean> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const store = await openStore({ url: url.href, migrate: true, postgres: { max: POOL } });
  // Committing as store.authenticate does: without waiting for the WAL flush.
  const raw = postgres(url.href, { max: 1, onnotice: () => {}, connection: { synchronous_commit: 'off' } });
  try {
    const keys = await seedKeys(store);
    const parsed = keys.map((key) => parseAgentKey(key)!);
    const args = parsed.map((p) => [p.prefix, hashKeySecret(p.secret).reveal()] as const);
    const request = { requestId: 'bench', clientAddress: '127.0.0.1', userAgent: 'keys-bench' };
    // Warm up both paths (connections, plans).
    await sample(200, (i) => store.authenticate(keys[i % KEYS]!, { request }));
    await sample(
      200,
      (i) =>
        raw`SELECT * FROM agentflow.authenticate_agent_key(${args[i % KEYS]![0]}, ${args[i % KEYS]![1]}, ${JSON.stringify(request)}::jsonb)`,
    );

    const viaStore = await sample(SAMPLES, (i) => store.authenticate(keys[i % KEYS]!, { request }));
    const bare = await sample(
      SAMPLES,
      (i) =>
        raw`SELECT * FROM agentflow.authenticate_agent_key(${args[i % KEYS]![0]}, ${args[i % KEYS]![1]}, ${JSON.stringify(request)}::jsonb)`,
    );
    // Server time alone: the calls run inside one statement, so neither network nor commit counts.
    const [prefix, hash] = args[0]!;
    await raw.unsafe(`CREATE TEMP TABLE bench_timing (micros float8)`);
    await raw.unsafe(
      `DO $$
       DECLARE started timestamptz := clock_timestamp();
       BEGIN
         FOR i IN 1..${SERVER_LOOP} LOOP
           PERFORM * FROM agentflow.authenticate_agent_key('${prefix}', '${hash}', '{"requestId": "bench"}');
         END LOOP;
         INSERT INTO bench_timing VALUES (extract(epoch FROM clock_timestamp() - started) * 1e6 / ${SERVER_LOOP});
       END $$`,
    );
    const [{ micros }] = (await raw.unsafe(`SELECT micros FROM bench_timing`)) as unknown as [
      { micros: number },
    ];

    const spread = await throughput(THROUGHPUT_OPS, CALLERS, (i) =>
      store.authenticate(keys[i % KEYS]!, { request }),
    );
    const hot = await throughput(THROUGHPUT_OPS, CALLERS, () => store.authenticate(keys[0]!, { request }));
    const [{ uses }] = (await raw`SELECT count(*)::int AS uses FROM agent_credential_uses`) as unknown as [
      { uses: number },
    ];

    const p50Store = percentile(viaStore, 0.5);
    const p50Bare = percentile(bare, 0.5);
    const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
    console.log(`API key verification, PostgreSQL server (${ADMIN_URL.replace(/:[^:@/]*@/, ':***@')})`);
    console.log(
      `  store.authenticate, 1 caller        p50 ${fmt(p50Store)}   p95 ${fmt(percentile(viaStore, 0.95))}   (${SAMPLES} calls)`,
    );
    console.log(
      `  bare function call, 1 caller        p50 ${fmt(p50Bare)}   p95 ${fmt(percentile(bare, 0.95))}   (one round trip, autocommit)`,
    );
    console.log(
      `  server time per verification        ${micros.toFixed(0)} µs   (${SERVER_LOOP} calls in one statement)`,
    );
    console.log(
      `  throughput, ${KEYS} keys, ${CALLERS} callers / pool ${POOL}   ${spread.toFixed(0)} verifications/s`,
    );
    console.log(
      `  throughput, 1 key,   ${CALLERS} callers / pool ${POOL}   ${hot.toFixed(0)} verifications/s`,
    );
    console.log(`  usage rows written                  ${uses}`);
    const failures: string[] = [];
    // Over loopback, so the network is as small as it gets; the server time shows what is left.
    if (p50Store > 1) failures.push(`store.authenticate p50 ${fmt(p50Store)} > 1 ms`);
    if (p50Bare > 1) failures.push(`bare function call p50 ${fmt(p50Bare)} > 1 ms`);
    if (Math.min(spread, hot) < 2000)
      failures.push(`throughput ${Math.min(spread, hot).toFixed(0)}/s < 2,000/s`);
    for (const failure of failures) console.log(`  MISSED: ${failure}`);
    return failures.length > 0;
  } finally {
    await raw.end();
    await store.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

run().then(
  (failed) => process.exit(failed ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
