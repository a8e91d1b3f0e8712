/**
 * Agents: what acting as an agent costs, and "agents with capability X" on a large tenant.
 *
 * - Set-up cost of an agent actor: a read-only single-statement unit with one point read
 *   (`tx.agents.get`), as a user (set-up: SET_CONTEXT, the tenant's status cached) against the same
 *   as an agent (SET_AGENT_CONTEXT: agentflow.require_usable_actor in the same statement, every
 *   unit). The two sides alternate within each round, the starting side rotating; the ratio is the
 *   median of the per-round ratios. On the server (DATABASE_URL, else 127.0.0.1:5432: it creates and
 *   drops its own database `bench_agents`) and on PGlite in memory.
 * - Server only: `agents.list({ capabilities: [tag] })` in a tenant of 5,000 agents among 50,000
 *   (100 tenants), for a rare tag (25 agents) and a common one (500: the first page of 100), with
 *   the plan the server chose for the rare one, after the VACUUM ANALYZE autovacuum would run.
 *
 *   npx tsx bench/agents-bench.ts
 */
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import { openStore, type Store, type TenantContext } from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_agents';
const ROUNDS = 31;
const OPS = 200;

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

/** Milliseconds per call of `op`, run `ops` times one after another. */
async function timeIt(ops: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await op(i);
  return Number(process.hrtime.bigint() - started) / 1e6 / ops;
}

interface Fixture {
  user: TenantContext;
  agent: TenantContext;
  agentId: string;
}

async function seedActors(store: Store): Promise<Fixture> {
  const { tenantId, userId } = await store.asService({ actor: 'bench' }, async (svc) => {
    const tenant = await svc.tenants.create({ slug: 'bench', name: 'Bench', status: 'active' });
    const user = await svc.users.create({ email: 'bench@bench.example', name: 'Bench' });
    await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
    return { tenantId: tenant.id, userId: user.id };
  });
  const user: TenantContext = { tenantId, actor: { type: 'user', id: userId } };
  const agentId = await store.withTenant(
    user,
    async (tx) =>
      (await tx.agents.create({ code: 'dev', name: 'Dev', type: 'backend_dev', roleTitle: 'Dev' })).id,
  );
  return { user, agent: { tenantId, actor: { type: 'agent', id: agentId } }, agentId };
}

/** The per-round ratio agent / user of a point-read unit, and both medians in µs. */
async function actorCost(store: Store, f: Fixture) {
  const pointRead = { readOnly: true, singleStatement: true };
  const sides = [f.user, f.agent].map(
    (context) => (_i: number) => store.withTenant(context, (tx) => tx.agents.get(f.agentId), pointRead),
  );
  for (const side of sides) await timeIt(OPS, side);
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < 2; k++) {
      const index = (round + k) % 2;
      times[index]!.push(await timeIt(OPS, sides[index]!));
    }
  const [user, agent] = times;
  return {
    user: median(user) * 1000,
    agent: median(agent) * 1000,
    ratio: median(agent.map((t, r) => t / user[r]!)),
  };
}

/** 100 tenants: the bench tenant of 5,000 agents, 99 of 500; tags c0…c199 plus `rare`. */
async function seedCapabilities(store: Store, url: string, tenantId: string): Promise<void> {
  await store.engine.transaction(undefined, async (c) => {
    await c.query(
      `INSERT INTO tenants (slug, name, status) SELECT 'cap-' || n, 'Cap ' || n, 'active' FROM generate_series(1, 99) n`,
    );
    // Two tags per agent: one of c0…c9 (one agent in ten each), one of c10…c199; one agent in 200
    // also has 'rare'.
    await c.query(
      `INSERT INTO agents (tenant_id, level, type, code, name, role_title, capabilities)
       SELECT t.id, 'organization', 'backend_dev', 'a-' || n, 'Agent ' || n, 'Dev',
              ARRAY['c' || (n % 10), 'c' || (10 + (n * 7) % 190)] || CASE WHEN n % 200 = 0 THEN ARRAY['rare'] ELSE '{}' END
         FROM tenants t CROSS JOIN LATERAL generate_series(1, CASE WHEN t.id = $1 THEN 5000 ELSE 500 END) n
        WHERE t.slug LIKE 'cap-%' OR t.id = $1`,
      [tenantId],
    );
  });
  // What autovacuum would do after a bulk load: statistics, and the GIN index's pending list merged
  // (fastupdate), which a scan otherwise reads through (here 3-7 ms instead of 0.3).
  const direct = postgres(url, { max: 1, onnotice: () => {} });
  await direct.unsafe('VACUUM ANALYZE agents');
  await direct.end();
}

async function capabilityQueries(store: Store, url: string, f: Fixture) {
  await seedCapabilities(store, url, f.user.tenantId);
  const list = (tag: string) => () =>
    store.withTenant(f.user, (tx) => tx.agents.list({ capabilities: [tag] }), { readOnly: true });
  const rare = await list('rare')();
  const common = await list('c7')();
  const samples = { rare: [] as number[], common: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    samples.rare.push(await timeIt(20, list('rare')));
    samples.common.push(await timeIt(20, list('c7')));
  }
  const plan = await store.withTenant(
    f.user,
    (tx) =>
      tx.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN ANALYZE SELECT * FROM agents WHERE tenant_id = $1 AND deleted_at IS NULL
            AND id IN (SELECT agentflow.agents_with_capabilities($2, true)) ORDER BY code LIMIT 101`,
        [f.user.tenantId, ['rare']],
      ),
    { readOnly: true },
  );
  return {
    rare: { found: rare.items.length, us: median(samples.rare) * 1000 },
    common: { found: common.items.length, us: median(samples.common) * 1000 },
    plan: plan.map((r) => r['QUERY PLAN']),
  };
}

async function main(): Promise<void> {
  const admin: Postgres.Sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  try {
    const server = await openStore({ url: url.toString(), migrate: true, postgres: { max: 4 } });
    let serverCost: Awaited<ReturnType<typeof actorCost>>;
    let capabilities: Awaited<ReturnType<typeof capabilityQueries>>;
    try {
      const f = await seedActors(server);
      serverCost = await actorCost(server, f);
      capabilities = await capabilityQueries(server, url.toString(), f);
    } finally {
      await server.close();
    }
    const embedded = await openStore({ url: 'memory://', migrate: true });
    let pgliteCost: Awaited<ReturnType<typeof actorCost>>;
    try {
      pgliteCost = await actorCost(embedded, await seedActors(embedded));
    } finally {
      await embedded.close();
    }

    const us = (value: number) => `${value.toFixed(0)} µs`;
    console.log(`server: ${url.host}; ${ROUNDS} rounds of ${OPS} units per side; medians\n`);
    console.log('| engine | point read as a user | as an agent | agent / user (median of rounds) |');
    console.log('|---|---|---|---|');
    for (const [engine, cost] of [
      ['PostgreSQL', serverCost],
      ['PGlite', pgliteCost],
    ] as const)
      console.log(`| ${engine} | ${us(cost.user)} | ${us(cost.agent)} | ${cost.ratio.toFixed(2)}× |`);
    console.log('\ncapability query, tenant of 5,000 agents among 50,000 (server, one unit each):');
    console.log(`  rare tag:   ${capabilities.rare.found} agents, ${us(capabilities.rare.us)}`);
    console.log(`  common tag: first page of ${capabilities.common.found}, ${us(capabilities.common.us)}`);
    console.log(`  plan (rare):\n    ${capabilities.plan.join('\n    ')}`);
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
