/**
 * Lesson search on the server engine (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres;
 * it creates and drops its own database bench_lessons): one tenant's ranked search among 10,000
 * lessons over 100 tenants, then among 100,000 (the same 100 tenants, ten times the rows each):
 * p50 and p95 of `tx.lessons.search` in a unit of work, and the ratio of the two p50s (target ≤ 2).
 * Rows are generated with generate_series as the owner from a vocabulary of 240 words, nine to
 * fifteen per lesson, so a two-word query matches about 1 lesson in 200 (5 of a tenant's 1,000)
 * and a one-word query about 1 in 20. Also: the plan of the same search run as plain SQL by
 * agentflow_app (the tenant policy keeps @@ off the GIN index) against the statement inside the
 * definer function (through auto_explain, so the bench connects as a superuser).
 *
 *   npx tsx bench/lessons-bench.ts
 */
import { postgres } from '../src/engine/postgres-driver.ts';
import { openStore, type Store, type TenantContext } from '../src/index.ts';
import { plansAsApp } from './plans-as-app.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_lessons';
const TENANTS = 100;
const SAMPLES = 300;

const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

const WORDS = [
  ...'deadlock retry timeout cache index migration lock transaction queue worker webhook token secret'.split(
    ' ',
  ),
  ...'header cookie session login password hash salt rotation expiry refresh flaky snapshot fixture mock'.split(
    ' ',
  ),
  ...'stub clock timezone render memo hook state reducer context prompt model embedding vector chunk'.split(
    ' ',
  ),
  ...'window latency throughput memory leak listener socket stream buffer backpressure pool connection'.split(
    ' ',
  ),
  ...'replica failover backup restore vacuum bloat partition shard tenant policy role grant schema column'.split(
    ' ',
  ),
  ...'constraint foreign unique check trigger function procedure cursor offset keyset pagination sort filter'.split(
    ' ',
  ),
  ...'search ranking dictionary stemming docker layer image container kubernetes deploy rollback canary'.split(
    ' ',
  ),
  ...'feature flag config environment variable logging tracing metric alert dashboard incident postmortem'.split(
    ' ',
  ),
  ...'review branch rebase merge conflict commit hook lint format typecheck compile bundle minify tree'.split(
    ' ',
  ),
  ...'shaking import export module package version dependency upgrade security patch vulnerability audit'.split(
    ' ',
  ),
  ...'injection escape sanitize encode decode unicode normalise locale currency decimal rounding float'.split(
    ' ',
  ),
  ...'integer overflow division precision serialization json schema validation parse error exception'.split(
    ' ',
  ),
  ...'handler middleware route controller service repository entity aggregate event outbox saga idempotent'.split(
    ' ',
  ),
  ...'duplicate ordering clock skew heartbeat lease election consensus quorum gossip bloom filter sketch'.split(
    ' ',
  ),
  ...'histogram percentile sampling profiler flamegraph allocation garbage collector pause heap stack frame'.split(
    ' ',
  ),
  ...'closure promise async await callback thread mutex semaphore atomic compare swap fence barrier'.split(
    ' ',
  ),
];

/** Adds `perTenant` lessons to each tenant, numbered from `offset`, as the owner in one statement. */
async function load(admin: ReturnType<typeof postgres>, perTenant: number, offset: number): Promise<void> {
  await admin`ALTER TABLE lessons DISABLE TRIGGER lessons_audit`;
  await admin`
    INSERT INTO lessons (tenant_id, category, title, summary, details, tags, source_agent_type, confidence)
    SELECT t.id,
           (ARRAY['database', 'testing', 'security', 'frontend', 'devops', 'ai'])[1 + (n % 6)],
           initcap(w[1 + (n * 7 + t.k) % cardinality(w)] || ' ' || w[1 + (n * 13 + t.k * 3) % cardinality(w)] || ' '
             || w[1 + (n * 31 + t.k * 5) % cardinality(w)]),
           'The ' || w[1 + (n * 17 + t.k) % cardinality(w)] || ' broke the ' || w[1 + (n * 19 + t.k * 7) % cardinality(w)]
             || ' when the ' || w[1 + (n * 23 + t.k * 11) % cardinality(w)] || ' changed.',
           'Fix: check the ' || w[1 + (n * 29 + t.k * 13) % cardinality(w)] || ' before the '
             || w[1 + (n * 37 + t.k * 17) % cardinality(w)] || ', and keep the ' || w[1 + (n * 41 + t.k) % cardinality(w)]
             || repeat(' and the ' || w[1 + (n * 43 + t.k * 19) % cardinality(w)], 1 + n % 4) || '.',
           ARRAY[w[1 + (n * 47) % cardinality(w)]],
           'backend_dev',
           ((n * 7919) % 1000) / 1000.0
      FROM (SELECT id, (row_number() OVER (ORDER BY id))::int AS k FROM tenants WHERE slug LIKE 'bench-%') AS t,
           generate_series(${offset + 1}::int, ${offset + perTenant}::int) AS n,
           (SELECT ${WORDS}::text[] AS w) AS v`;
  await admin`ALTER TABLE lessons ENABLE TRIGGER lessons_audit`;
  // As autovacuum would: the GIN index's pending list (fastupdate) merged, statistics fresh.
  await admin`VACUUM ANALYZE lessons`;
}

const QUERIES = [
  'deadlock timeout',
  'flaky snapshot',
  'cache invalidation',
  'memory leak',
  'webhook retry',
  'tenant policy',
  'docker layer',
  'rounding currency',
  'prompt window',
  'index migration',
];

async function measure(
  store: Store,
  context: TenantContext,
): Promise<{ p50: number; p95: number; hits: number }> {
  const samples: number[] = [];
  let hits = 0;
  for (let i = 0; i < SAMPLES + 30; i++) {
    const query = QUERIES[i % QUERIES.length]!;
    const started = process.hrtime.bigint();
    const page = await store.withTenant(context, (tx) => tx.lessons.search({ query, limit: 20 }), {
      readOnly: true,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i >= 30) {
      samples.push(ms);
      hits += page.items.length;
    }
  }
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), hits: hits / SAMPLES };
}

/** The same search as plain SQL run by agentflow_app, and through agentflow.search_lessons. */
function plans(url: string, tenantId: string): Promise<string[]> {
  return plansAsApp(url, { tenant_id: tenantId }, [
    `SELECT id FROM lessons WHERE deleted_at IS NULL AND search_vector @@ websearch_to_tsquery('english', 'deadlock timeout')`,
    `SELECT * FROM agentflow.search_lessons('deadlock timeout', NULL, NULL, false, NULL, NULL, NULL, 21)`,
  ]);
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const store = await openStore({ url: url.href, migrate: true, postgres: { max: 4 } });
  const owner = postgres(url.href, { max: 1, onnotice: () => {} });
  try {
    const contexts: TenantContext[] = [];
    await store.asService({ actor: 'bench' }, async (svc) => {
      for (let i = 0; i < TENANTS; i++) {
        const slug = `bench-${String(i).padStart(3, '0')}`;
        const tenant = await svc.tenants.create({ slug, name: slug, status: 'active' });
        const user = await svc.users.create({ email: `${slug}@bench.example`, name: 'Bench' });
        await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
        contexts.push({ tenantId: tenant.id, actor: { type: 'user', id: user.id } });
      }
    });
    const context = contexts[42]!;
    await load(owner, 100, 0);
    const small = await measure(store, context);
    console.log(
      `10,000 lessons: p50 ${small.p50.toFixed(2)} ms, p95 ${small.p95.toFixed(2)} ms, ${small.hits.toFixed(1)} hits/query`,
    );
    for (const plan of await plans(url.href, context.tenantId)) console.log(`  ${plan}`);
    await load(owner, 900, 100);
    const large = await measure(store, context);
    console.log(
      `100,000 lessons: p50 ${large.p50.toFixed(2)} ms, p95 ${large.p95.toFixed(2)} ms, ${large.hits.toFixed(1)} hits/query`,
    );
    for (const plan of await plans(url.href, context.tenantId)) console.log(`  ${plan}`);
    const ratio = large.p50 / small.p50;
    console.log(`p50 ratio 100,000 / 10,000: ${ratio.toFixed(2)} (target ≤ 2)`);
    if (ratio > 2) process.exitCode = 1;
  } finally {
    await owner.end();
    await store.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  }
}

await main();
