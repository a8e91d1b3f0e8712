/**
 * The event timeline on the server engine (PostgreSQL at DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; the bench creates its own database bench_timeline
 * there and drops it at the end):
 *
 * - single event append: `tx.events.append` in a single-statement unit, against the same insert
 *   in the Drizzle idiom (db.transaction, one set_config statement, the builder's insert) and
 *   against the raw driver (the same SQL, prepared, autocommit, no tenant context). Target ≤ 0.8×
 *   the idiom. Ratios are medians of per-round ratios, sides rotating, as in repository-vs-raw.ts.
 * - batch append of 1,000 events (`tx.events.appendBatch`, one INSERT): target ≥ 20,000 events/s.
 * - newest-50 page of one project's timeline and of one agent's mentions (through event_mentions:
 *   a GIN index on events.mentions measured 48× slower at 1,000,000 events than at 10,000), through the repository,
 *   with 10,000 and then 1,000,000 events over 100 tenants (10 agents and 3 projects each, 30% of
 *   events mentioning an agent): p50, p95, and p50 at 1,000,000 / p50 at 10,000 (target ≤ 2: the
 *   query must not grow with the table). The bulk rows are loaded by the owner with INSERT …
 *   SELECT generate_series, triggers and foreign-key checks off for the load (session_replication_role
 *   = replica; the rows are built valid), then ANALYZEd. The plans are printed.
 *
 *   npx tsx bench/timeline-bench.ts
 */
import { randomUUID } from 'node:crypto';
import { and, desc, sql as drizzleSql, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import {
  APP_ROLE,
  EVENT_TYPES,
  openStore,
  type Store,
  SYSTEM_EVENT_TYPES,
  schema,
  type TenantContext,
} from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_timeline';
const POOL = 8;
const ROUNDS = 31;
const TENANTS = 100;
const PAGE_SAMPLES = 400;
// The types a caller writes outside a session (system types come only from the database's
// triggers; a session_log needs its session).
const BULK_TYPES = EVENT_TYPES.filter(
  (type) => type !== 'session_log' && !(SYSTEM_EVENT_TYPES as readonly string[]).includes(type),
);

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function timeOps(ops: number, op: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await op();
  return Number(process.hrtime.bigint() - started) / 1e6 / ops;
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A JSON object's text as the object (a uuid[] literal such as {"…"} is not JSON and stays text). */
function jsonDocument(value: unknown): unknown {
  if (typeof value !== 'string' || !value.startsWith('{')) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

interface Fixture {
  tenants: Array<{ context: TenantContext; projects: string[]; agents: string[] }>;
}

/** 100 tenants, 3 projects and 10 agents each, through the service role and as the owner. */
async function createFixture(store: Store, owner: Postgres.Sql): Promise<Fixture> {
  const tenants: Fixture['tenants'] = [];
  for (let n = 0; n < TENANTS; n++) {
    const { tenantId, userId } = await store.asService({ actor: 'bench' }, async (svc) => {
      const tenant = await svc.tenants.create({ slug: `bt-${n}`, name: `Bench ${n}`, status: 'active' });
      const user = await svc.users.create({ email: `bench${n}@bench.example`, name: `Bench ${n}` });
      await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
      return { tenantId: tenant.id, userId: user.id };
    });
    const context: TenantContext = { tenantId, actor: { type: 'user', id: userId } };
    const projects = await store.withTenant(context, async (tx) => {
      const ids: string[] = [];
      for (let p = 0; p < 3; p++) ids.push((await tx.projects.create({ slug: `p-${p}`, name: `P ${p}` })).id);
      return ids;
    });
    const agents = await owner<{ id: string }[]>`
      INSERT INTO agents (tenant_id, level, type, code, name, role_title)
      SELECT ${tenantId}, 'organization', 'backend_dev', 'agent-' || a, 'Agent ' || a, 'Engineer'
        FROM generate_series(0, 9) AS a
      RETURNING id`;
    tenants.push({ context, projects, agents: agents.map((a) => a.id) });
  }
  await owner`CREATE UNLOGGED TABLE bench_tenants (n int PRIMARY KEY, id uuid)`;
  await owner`CREATE UNLOGGED TABLE bench_projects (tn int, pn int, id uuid, PRIMARY KEY (tn, pn))`;
  await owner`CREATE UNLOGGED TABLE bench_agents (tn int, an int, id uuid, PRIMARY KEY (tn, an))`;
  for (const [n, t] of tenants.entries()) {
    await owner`INSERT INTO bench_tenants VALUES (${n}, ${t.context.tenantId})`;
    for (const [p, id] of t.projects.entries())
      await owner`INSERT INTO bench_projects VALUES (${n}, ${p}, ${id})`;
    for (const [a, id] of t.agents.entries())
      await owner`INSERT INTO bench_agents VALUES (${n}, ${a}, ${id})`;
  }
  return { tenants };
}

/**
 * Events number `from` to `to` (inclusive), as the owner: event g belongs to tenant g % 100, is 30
 * ms after event g - 1 (the newest is now), and 30% of events mention one agent.
 */
async function loadEvents(owner: Postgres.Sql, from: number, to: number, total: number): Promise<void> {
  await owner.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    // With triggers off, the mention index is filled by the same statement, as its trigger would.
    await tx`
      WITH loaded AS (
        INSERT INTO events (tenant_id, occurred_at, type, project_id, author_id, payload, mentions)
        SELECT t.id, now() - (${total}::int - g) * interval '30 milliseconds',
               (${BULK_TYPES}::text[])[1 + g % ${BULK_TYPES.length}], p.id, a.id,
               jsonb_build_object('message', 'event ' || g),
               CASE WHEN g % 10 < 3 THEN ARRAY[m.id] ELSE '{}' END
          FROM generate_series(${from}::int, ${to}::int) AS g
          JOIN bench_tenants t ON t.n = g % ${TENANTS}
          JOIN bench_projects p ON p.tn = t.n AND p.pn = (g / ${TENANTS}) % 3
          JOIN bench_agents a ON a.tn = t.n AND a.an = (g / 7) % 10
          JOIN bench_agents m ON m.tn = t.n AND m.an = (g / 3) % 10
        RETURNING tenant_id, occurred_at, id, mentions)
      INSERT INTO event_mentions (tenant_id, agent_id, occurred_at, event_id)
      SELECT l.tenant_id, x.id, l.occurred_at, l.id FROM loaded l, unnest(l.mentions) AS x(id)`;
  });
  await owner`VACUUM ANALYZE events, event_mentions`;
}

interface Latency {
  p50: number;
  p95: number;
}

async function pageLatencies(
  store: Store,
  fixture: Fixture,
): Promise<{ project: Latency; mention: Latency }> {
  const read = { readOnly: true, singleStatement: true } as const;
  const pick = (i: number) => fixture.tenants[(i * 37) % TENANTS]!;
  const run = async (query: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await query(i); // warm-up
    const times: number[] = [];
    for (let i = 0; i < PAGE_SAMPLES; i++) times.push(await timeOps(1, () => query(i)));
    return { p50: median(times), p95: percentile(times, 0.95) };
  };
  const project = await run((i) => {
    const t = pick(i);
    return store.withTenant(
      t.context,
      (tx) => tx.events.list({ projectId: t.projects[i % 3]!, limit: 50 }),
      read,
    );
  });
  const mention = await run((i) => {
    const t = pick(i);
    return store.withTenant(
      t.context,
      (tx) => tx.events.list({ mention: t.agents[i % 10]!, limit: 50 }),
      read,
    );
  });
  return { project, mention };
}

/**
 * The plans of the two page queries for one tenant: built here with Drizzle as the repository
 * builds them (checked against the SQL a store sends), explained as the app role with the tenant
 * set (row-level security on).
 */
async function plans(url: string, owner: Postgres.Sql, fixture: Fixture): Promise<string[]> {
  const t = fixture.tenants[0]!;
  const { events, eventMentions } = schema;
  const db = drizzle(owner);
  const newest = [desc(events.occurredAt), desc(events.id)];
  const queries = [
    [
      'project page',
      { projectId: t.projects[0]!, limit: 50 },
      db
        .select()
        .from(events)
        .where(and(eq(events.tenantId, t.context.tenantId), eq(events.projectId, t.projects[0]!)))
        .orderBy(...newest)
        .limit(51)
        .toSQL(),
    ],
    [
      'mention page',
      { mention: t.agents[0]!, limit: 50 },
      db
        .select({ event: events })
        .from(eventMentions)
        .innerJoin(
          events,
          and(
            eq(events.tenantId, eventMentions.tenantId),
            eq(events.occurredAt, eventMentions.occurredAt),
            eq(events.id, eventMentions.eventId),
          ),
        )
        .where(
          and(
            eq(events.tenantId, t.context.tenantId),
            eq(eventMentions.tenantId, t.context.tenantId),
            eq(eventMentions.agentId, t.agents[0]!),
          ),
        )
        .orderBy(desc(eventMentions.occurredAt), desc(eventMentions.eventId))
        .limit(51)
        .toSQL(),
    ],
  ] as const;
  const sent: string[] = [];
  const capture = await openStore({ url, onQuery: (text) => sent.push(text) });
  const out: string[] = [];
  try {
    for (const [label, input, query] of queries) {
      sent.length = 0;
      await capture.withTenant(t.context, (tx) => tx.events.list(input));
      if (!sent.includes(query.sql))
        throw new Error(`the ${label} built here is not the repository's:\n${sent.join('\n')}`);
      const rows = await owner.begin(async (tx) => {
        await tx`SELECT set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${t.context.tenantId}, true)`;
        return tx.unsafe(
          `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query.sql}`,
          query.params as Postgres.ParameterOrJSON<never>[],
        );
      });
      out.push(
        `  ${label}:`,
        ...rows.map((r) => `    ${(r as unknown as { 'QUERY PLAN': string })['QUERY PLAN']}`),
      );
    }
  } finally {
    await capture.close();
  }
  return out;
}

async function main(): Promise<boolean> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = databaseUrl(DATABASE);
  let store: Store | undefined;
  let owner: Postgres.Sql | undefined;
  let idiomSql: Postgres.Sql | undefined;
  let missed = false;
  const report = (line: string) => process.stdout.write(`${line}\n`);
  const check = (ok: boolean) => {
    if (!ok) missed = true;
    return ok ? 'ok' : 'MISSED';
  };
  try {
    store = await openStore({ url, migrate: true, postgres: { max: POOL } });
    owner = postgres(url, { max: POOL, onnotice: () => {} });
    idiomSql = postgres(url, { max: POOL, onnotice: () => {} });
    const repo = store;
    const raw = owner;
    const db = drizzle(idiomSql);
    const fixture = await createFixture(repo, raw);
    const t = fixture.tenants[0]!;
    const { tenantId, actor } = t.context;
    const [projectId, authorId] = [t.projects[0]!, t.agents[0]!];
    const { events } = schema;

    // 1. Single append.
    const values = (message: string) => ({
      tenantId,
      type: 'advice_given' as const,
      projectId,
      sessionId: null,
      authorId,
      payload: { message },
      mentions: [t.agents[1]!],
      metadata: {},
    });
    const idiomInsert = (tx: Pick<typeof db, 'insert'>, message: string) =>
      tx.insert(events).values(values(message)).returning();
    const setContext = () =>
      drizzleSql`select set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${tenantId}, true), set_config('agentflow.actor_type', ${actor.type}, true), set_config('agentflow.actor_id', ${actor.id}, true)`;
    const sent: string[] = [];
    const capture = await openStore({ url, onQuery: (text) => sent.push(text) });
    await capture.withTenant(t.context, async (tx) => {
      sent.length = 0;
      await tx.events.append({
        type: 'advice_given',
        projectId,
        authorId,
        payload: { message: 'capture' },
        mentions: [t.agents[1]!],
      });
    });
    await capture.close();
    const appendSql = sent[0]!;
    if (appendSql !== idiomInsert(db, 'x').toSQL().sql)
      throw new Error(
        `the idiom's insert differs from the repository's:\n${appendSql}\n${idiomInsert(db, 'x').toSQL().sql}`,
      );
    // The builder's parameters, with the JSON documents as values: postgres.js encodes a jsonb
    // parameter itself, and would store the builder's JSON text as a JSON string.
    const rawParams = (message: string) =>
      idiomInsert(db, message)
        .toSQL()
        .params.map((value) =>
          value === undefined ? null : jsonDocument(value),
        ) as Postgres.ParameterOrJSON<never>[];
    const sides = {
      raw: () => raw.unsafe(appendSql, rawParams(randomUUID()), { prepare: true }),
      idiom: () =>
        db.transaction(async (tx) => {
          await tx.execute(setContext());
          return idiomInsert(tx, randomUUID());
        }),
      repository: () =>
        repo.withTenant(
          t.context,
          (tx) =>
            tx.events.append({
              type: 'advice_given',
              projectId,
              authorId,
              payload: { message: randomUUID() },
              mentions: [t.agents[1]!],
            }),
          { singleStatement: true },
        ),
    };
    const names = Object.keys(sides) as Array<keyof typeof sides>;
    for (const name of names) await timeOps(80, sides[name]);
    const times = { raw: [] as number[], idiom: [] as number[], repository: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        times[name].push(await timeOps(40, sides[name]));
      }
    }
    const vsIdiom = median(times.repository.map((time, r) => time / times.idiom[r]!));
    const vsRaw = median(times.repository.map((time, r) => time / times.raw[r]!));
    report('single event append, 1 caller (median ms per append):');
    report(
      `  repository ${median(times.repository).toFixed(3)}  idiom ${median(times.idiom).toFixed(3)}  raw ${median(times.raw).toFixed(3)}`,
    );
    report(
      `  repository / idiom ${vsIdiom.toFixed(2)}× (target ≤ 0.8×: ${check(vsIdiom <= 0.8)}); repository / raw ${vsRaw.toFixed(2)}×`,
    );

    // 2. Batch append.
    const batch = () =>
      Array.from({ length: 1000 }, (_, i) => ({
        type: 'advice_given' as const,
        projectId,
        authorId,
        payload: { message: `batch ${i}` },
        mentions: i % 3 === 0 ? [t.agents[(i % 9) + 1]!] : [],
      }));
    await repo.withTenant(t.context, (tx) => tx.events.appendBatch(batch()));
    const batchTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      const input = batch();
      batchTimes.push(
        await timeOps(1, () => repo.withTenant(t.context, (tx) => tx.events.appendBatch(input))),
      );
    }
    const perSecond = 1000 / (median(batchTimes) / 1000);
    report('batch append of 1,000 events (one INSERT, one unit of work):');
    report(
      `  median ${median(batchTimes).toFixed(1)} ms per batch = ${Math.round(perSecond)} events/s (target ≥ 20,000: ${check(perSecond >= 20_000)})`,
    );

    // 3. Pages at 10,000 and 1,000,000 events.
    await raw`DELETE FROM events`; // the owner removes (append-only to every other role)
    await loadEvents(raw, 1, 10_000, 1_000_000);
    const small = await pageLatencies(repo, fixture);
    const smallPlans = await plans(url, raw, fixture);
    const started = Date.now();
    for (let from = 10_001; from <= 1_000_000; from += 330_000)
      await loadEvents(raw, from, Math.min(1_000_000, from + 329_999), 1_000_000);
    const loadSeconds = (Date.now() - started) / 1000;
    const [{ n }] = (await raw`SELECT count(*)::int AS n FROM events`) as unknown as [{ n: number }];
    const [{ m }] = (await raw`SELECT count(*)::int AS m FROM event_mentions`) as unknown as [{ m: number }];
    const large = await pageLatencies(repo, fixture);
    report(
      `newest-50 pages through the repository (read-only single-statement unit), ms; ${n} events (${m} mentions) loaded in ${loadSeconds.toFixed(0)} s:`,
    );
    for (const kind of ['project', 'mention'] as const) {
      const ratio = large[kind].p50 / small[kind].p50;
      report(
        `  ${kind.padEnd(7)} 10k: p50 ${small[kind].p50.toFixed(3)} p95 ${small[kind].p95.toFixed(3)} | 1M: p50 ${large[kind].p50.toFixed(3)} p95 ${large[kind].p95.toFixed(3)} | p50 ratio ${ratio.toFixed(2)} (target ≤ 2: ${check(ratio <= 2)})`,
      );
    }
    report('plans at 10,000 events:');
    for (const line of smallPlans) report(line);
    report('plans at 1,000,000 events:');
    for (const line of await plans(url, raw, fixture)) report(line);
  } finally {
    await store?.close();
    await owner?.end();
    await idiomSql?.end();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
  return missed;
}

process.exitCode = (await main()) ? 1 : 0;
