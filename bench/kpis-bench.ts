/**
 * KPIs and retention on the server engine, in one run against DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres; it creates and drops its own database bench_kpis):
 *
 * - record: `tx.kpis.record` in a unit of work against the idiom (a Drizzle transaction with one
 *   set_config statement, then the same insert built with Drizzle): both pay the database's trigger
 *   work (agent lock, previous record, trend, kpi_updated event), so the ratio is the library's cost.
 *   Median of per-round ratios, sides alternating.
 * - latest: the newest record of each of 100 agents (one page), p50 and p95, with 5 and with 100
 *   records per agent: the ratio of the two p50s shows the query does not grow with the history.
 * - history page of 50, trust score recompute: p50.
 * - retention: rows/s exported (to memory) and purged, pages of 1,000.
 *
 *   npx tsx bench/kpis-bench.ts
 */
import { sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { postgres } from '../src/engine/postgres-driver.ts';
import { APP_ROLE, openStore, type Store, schema, type TenantContext } from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_kpis';
const ROUNDS = 15;
const PER_ROUND = 20;

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function timeEach(times: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = process.hrtime.bigint();
    await op(i);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

/** A tenant with `agents` agents of `records` KPI records each, written in bulk as the owner. */
async function seedTenant(
  store: Store,
  slug: string,
  agents: number,
  records: number,
): Promise<TenantContext> {
  const { tenantId, actor } = await store.asService({ actor: 'bench' }, async (svc) => {
    const tenant = await svc.tenants.create({ slug, name: slug, status: 'active' });
    const user = await svc.users.create({ email: `${slug}@bench.example`, name: 'Bench' });
    await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
    return { tenantId: tenant.id, actor: { type: 'user' as const, id: user.id } };
  });
  await store.engine.transaction(undefined, async (c) => {
    await c.query(
      `INSERT INTO agents (tenant_id, level, type, code, name, role_title)
       SELECT $1, 'organization', 'backend_dev', 'a-' || n, 'Agent ' || n, 'Developer' FROM generate_series(1, $2) AS n`,
      [tenantId, agents],
    );
    // One statement per round of records, so that each sees the previous as the trigger does.
    for (let r = 0; r < records; r++)
      await c.query(
        `INSERT INTO kpis (tenant_id, agent_id, recorded_at, metrics)
         SELECT $1, id, now() - make_interval(days => $2::int - $3::int), jsonb_build_object('tasksCompleted', $3::int, 'codeQualityScore', 50 + $3::int % 50)
           FROM agents WHERE tenant_id = $1`,
        [tenantId, records, r],
      );
  });
  return { tenantId, actor };
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const store = await openStore({ url: url.href, migrate: true, postgres: { max: 4 } });
  const idiomSql = postgres(url.href, { max: 4, onnotice: () => {} });
  try {
    const shallow = await seedTenant(store, 'shallow', 100, 5);
    const deep = await seedTenant(store, 'deep', 100, 100);
    const [agent] = await store
      .withTenant(shallow, (tx) => tx.kpis.latest({ limit: 1 }))
      .then((p) => p.items);
    const agentId = agent!.agentId;

    // record: repository against the idiom.
    const db = drizzle(idiomSql);
    const { tenantId, actor } = shallow;
    const idiomRecord = () =>
      db.transaction(async (tx) => {
        await tx.execute(
          drizzleSql`select set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${tenantId}, true), set_config('agentflow.actor_type', ${actor.type}, true), set_config('agentflow.actor_id', ${actor.id}, true)`,
        );
        return tx
          .insert(schema.kpis)
          .values({ tenantId, agentId, recordedAt: drizzleSql`NULL`, metrics: { tasksCompleted: 1 } })
          .returning();
      });
    const repoRecord = () =>
      store.withTenant(shallow, (tx) => tx.kpis.record({ agentId, metrics: { tasksCompleted: 1 } }));
    await timeEach(PER_ROUND, idiomRecord);
    await timeEach(PER_ROUND, repoRecord);
    const ratios: number[] = [];
    const repoTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0;
      const a = median(await timeEach(PER_ROUND, first ? repoRecord : idiomRecord));
      const b = median(await timeEach(PER_ROUND, first ? idiomRecord : repoRecord));
      const [repo, idiom] = first ? [a, b] : [b, a];
      ratios.push(repo / idiom);
      repoTimes.push(repo);
    }

    const latest = async (context: TenantContext) => {
      await timeEach(20, () =>
        store.withTenant(context, (tx) => tx.kpis.latest({ limit: 100 }), { readOnly: true }),
      );
      return timeEach(200, () =>
        store.withTenant(context, (tx) => tx.kpis.latest({ limit: 100 }), { readOnly: true }),
      );
    };
    const latestShallow = await latest(shallow);
    const latestDeep = await latest(deep);
    const history = await timeEach(200, () =>
      store.withTenant(deep, (tx) => tx.kpis.history(agentId, { limit: 50 }), { readOnly: true }),
    );
    const [deepAgent] = (await store.withTenant(deep, (tx) => tx.kpis.latest({ limit: 1 }))).items;
    const recompute = await timeEach(100, () =>
      store.withTenant(deep, (tx) => tx.kpis.recomputeTrustScore(deepAgent!.agentId)),
    );

    // Retention: 20,000 events two years old.
    await store.engine.transaction(undefined, (c) =>
      c.query(
        `INSERT INTO events (tenant_id, type, author_id, payload, occurred_at)
         SELECT $1, 'problem_report', (SELECT id FROM agents WHERE tenant_id = $1 ORDER BY code LIMIT 1),
                jsonb_build_object('title', 'old ' || n, 'severity', 'low'),
                now() - interval '2 years' + n * interval '1 second'
           FROM generate_series(1, 20000) AS n`,
        [tenantId],
      ),
    );
    let bytes = 0;
    const started = process.hrtime.bigint();
    const report = await store.asService({ actor: 'bench' }, (svc) =>
      svc.retention.exportExpired({
        tenantId,
        write: async (lines) => {
          bytes += lines.length;
        },
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const purged = report.results.reduce((sum, r) => sum + r.purged, 0);

    const ms = (value: number) => `${value.toFixed(3)} ms`;
    console.log(
      `kpis.record vs Drizzle idiom (1 caller): ${median(ratios).toFixed(2)}× (repository ${ms(median(repoTimes))})`,
    );
    console.log(
      `kpis.latest, 100 agents: p50 ${ms(median(latestShallow))} / p95 ${ms(percentile(latestShallow, 0.95))} at 5 records each; ` +
        `p50 ${ms(median(latestDeep))} / p95 ${ms(percentile(latestDeep, 0.95))} at 100 each; ratio ${(median(latestDeep) / median(latestShallow)).toFixed(2)}`,
    );
    console.log(`kpis.history page of 50: p50 ${ms(median(history))}`);
    console.log(`kpis.recomputeTrustScore (100 records): p50 ${ms(median(recompute))}`);
    console.log(
      `retention: ${purged} events exported (${(bytes / 1e6).toFixed(1)} MB) and purged in ${seconds.toFixed(2)} s: ${Math.round(purged / seconds)} rows/s`,
    );
  } finally {
    await store.close();
    await idiomSql.end();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  }
}

await main();
