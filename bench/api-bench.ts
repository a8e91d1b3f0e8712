/**
 * The HTTP API against the floor under it, with autocannon (50 connections, server engine).
 *
 * One Fastify server, built by createApiServer as `agentflow serve` builds it, carries extra routes
 * for comparison. Raw routes have no authentication and run one raw postgres.js statement on a pool
 * of their own of the same size as the store's (10):
 * - point read: `GET /v1/projects/:id` (API key verified through the ≤5 s cache, rate limit spent,
 *   a read-only tenant unit of work as the agent under row-level security, ETag) against
 *   `GET /raw/projects/:id` (one SELECT of the same row by its key);
 * - event append: `POST /v1/events` (the same, a write unit, the body checked against the event
 *   contract) against `POST /raw/events` (one INSERT … RETURNING *).
 * Two more sides, for context:
 * - bare unit: the route's repository call in a bare unit of work as the agent (no HTTP
 *   authentication, rate limit or request validation): what the API adds to the library;
 * - idiom: what a user would pick instead to get the same isolation, with no authentication: a
 *   Drizzle `db.transaction` (drizzle-orm/postgres-js) that sets role, tenant and actor with one
 *   `select set_config(…)`, then runs the same statement built with Drizzle's query builder.
 * The raw floor sets no tenant context at all, so it does not do what the API must do: a target
 * against it that even the driver cannot meet while doing that job is also stated against the idiom
 * (API / idiom ≥ 0.5).
 *
 * Each side gets a 2 s warm-up, then three rounds of one 3 s run per side, the starting side
 * rotating; the bench prints the median requests/s and p99 latency of each side and the medians of
 * the rounds' ratios (target: API / raw ≥ 0.5× for both). The rate limit is set to 10^8 requests a
 * minute: the limiter is consulted on every API request as in production, and never refuses one.
 * autocannon fires from a worker thread, not the server's event loop.
 *
 * It also counts the key's verification rows (agent_credential_uses) written during the runs: a
 * cached verification writes none, so there is one per ≤5 s (the cache's bound), not one per request.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/api-bench.ts
 *
 * Creates its own database `bench_api` on that server, and drops it. Exits non-zero when a target
 * is missed. A route not in this build yet (another part of the API) is skipped, saying so.
 */
import autocannon, { type Result } from 'autocannon';
import { and, sql as drizzleSql, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { createCoordination } from '../src/coordination/index.ts';
import { postgres } from '../src/engine/postgres-driver.ts';
import { events } from '../src/events/events.schema.ts';
import { MAX_KEY_CACHE_MS } from '../src/http/key-verification-cache.ts';
import { apiRoutes } from '../src/http/routes.ts';
import { createApiServer } from '../src/http/server.ts';
import { openStore, type Store } from '../src/index.ts';
import { projects } from '../src/projects/projects.schema.ts';
import { APP_ROLE } from '../src/store/roles.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_api';
const POOL = 10;
const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const RUN_SECONDS = 3;
const ROUNDS = 3;
const TARGET_RATIO = 0.5;
const RATE_LIMIT = { limit: 100_000_000, windowMs: 60_000 };

interface Fixture {
  tenantId: string;
  agentId: string;
  credentialId: string;
  key: string;
  projectId: string;
}

async function seed(store: Store): Promise<Fixture> {
  const { tenantId, agentId, credentialId, key } = await store.asService({ actor: 'bench' }, async (svc) => {
    const tenant = await svc.tenants.create({ slug: 'bench', name: 'Bench', status: 'active' });
    const agent = await svc.agents.create(tenant.id, {
      code: 'bench',
      name: 'Bench',
      type: 'backend_dev',
      roleTitle: 'Developer',
    });
    const issued = await svc.agentCredentials.issue(tenant.id, { agentId: agent.id });
    return {
      tenantId: tenant.id,
      agentId: agent.id,
      credentialId: issued.credential.id,
      key: issued.key.reveal(),
    };
  });
  const project = await store.withTenant({ tenantId, actor: { type: 'agent', id: agentId } }, (tx) =>
    tx.projects.create({ slug: 'bench', name: 'Bench', description: 'The project every read reads' }),
  );
  return { tenantId, agentId, credentialId, key, projectId: project.id };
}

interface Target {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

async function load(base: string, target: Target, seconds: number): Promise<Result> {
  return autocannon({
    url: `${base}${target.path}`,
    method: target.method,
    headers: target.headers,
    ...(target.body === undefined ? {} : { body: target.body }),
    connections: CONNECTIONS,
    duration: seconds,
    workers: 1,
  });
}

/** One run; a failed request fails the bench. */
async function run(base: string, target: Target, seconds: number): Promise<Result> {
  const result = await load(base, target, seconds);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(
      `${target.method} ${target.path}: ${result.non2xx} non-2xx responses (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`,
    );
  return result;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

type Sides<T> = { api: T; unit: T; idiom: T; raw: T };
const SIDES = ['api', 'unit', 'idiom', 'raw'] as const;

/**
 * An operation through each side: a warm-up of each, then ROUNDS rounds of one run per side, the
 * starting side rotating. Figures are medians and a ratio is the median of the rounds' ratios, so
 * that the load of a shared machine drifting during the bench weighs on every side alike.
 */
async function compare(base: string, targets: Sides<Target>) {
  const results: Sides<Result[]> = { api: [], unit: [], idiom: [], raw: [] };
  let apiRequests = 0;
  const once = async (side: (typeof SIDES)[number], seconds: number) => {
    const result = await run(base, targets[side], seconds);
    if (side === 'api') apiRequests += result.requests.total;
    return result;
  };
  for (const side of SIDES) await once(side, WARMUP_SECONDS);
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < SIDES.length; k++) {
      const side = SIDES[(round + k) % SIDES.length]!;
      results[side].push(await once(side, RUN_SECONDS));
    }
  const figures = (side: Result[]) => ({
    rps: median(side.map((r) => r.requests.average)),
    p99: median(side.map((r) => r.latency.p99)),
  });
  const ratio = (to: Result[]) =>
    median(results.api.map((r, i) => r.requests.average / to[i]!.requests.average));
  return {
    api: figures(results.api),
    unit: figures(results.unit),
    idiom: figures(results.idiom),
    raw: figures(results.raw),
    toRaw: ratio(results.raw),
    toUnit: ratio(results.unit),
    toIdiom: ratio(results.idiom),
    apiRequests,
  };
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const store = await openStore({ url: url.toString(), migrate: true, postgres: { max: POOL } });
  const raw = postgres(url.toString(), { max: POOL, onnotice: () => {} });
  const idiom = postgres(url.toString(), { max: POOL, onnotice: () => {} });
  const coordination = await createCoordination();
  try {
    const f = await seed(store);
    const app = await createApiServer({
      store,
      coordination,
      routes: apiRoutes,
      logger: false,
      rateLimit: RATE_LIMIT,
    });
    app.get('/raw/projects/:id', async (request) => {
      const [row] =
        await raw`SELECT * FROM projects WHERE tenant_id = ${f.tenantId} AND id = ${(request.params as { id: string }).id}`;
      return row;
    });
    app.post('/raw/events', async (request, reply) => {
      const event = request.body as { type: string; projectId: string; payload: Record<string, unknown> };
      const [row] = await raw`INSERT INTO events (tenant_id, type, project_id, author_id, payload)
        VALUES (${f.tenantId}, ${event.type}, ${event.projectId}, ${f.agentId}, ${raw.json(event.payload as never)})
        RETURNING *`;
      return reply.status(201).send(row);
    });
    // The idiom: a Drizzle transaction that sets the context, then the statement, on its own pool.
    const db = drizzle(idiom);
    const setContext = () =>
      drizzleSql`select set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${f.tenantId}, true), set_config('agentflow.actor_type', 'agent', true), set_config('agentflow.actor_id', ${f.agentId}, true)`;
    app.get('/idiom/projects/:id', (request) =>
      db.transaction(async (tx) => {
        await tx.execute(setContext());
        const [row] = await tx
          .select()
          .from(projects)
          .where(and(eq(projects.id, (request.params as { id: string }).id), isNull(projects.deletedAt)));
        return row;
      }),
    );
    app.post('/idiom/events', async (request, reply) => {
      const event = request.body as {
        type: typeof events.$inferInsert.type;
        projectId: string;
        payload: Record<string, unknown>;
      };
      const row = await db.transaction(async (tx) => {
        await tx.execute(setContext());
        const [inserted] = await tx
          .insert(events)
          .values({
            tenantId: f.tenantId,
            type: event.type,
            projectId: event.projectId,
            authorId: f.agentId,
            payload: event.payload,
          })
          .returning();
        return inserted;
      });
      return reply.status(201).send(row);
    });
    // The repository calls the API routes make, in a bare unit of work as the agent: no HTTP
    // authentication, rate limit, validation of the request or ETag.
    const asAgent = { tenantId: f.tenantId, actor: { type: 'agent' as const, id: f.agentId } };
    app.get('/unit/projects/:id', (request) =>
      store.withTenant(asAgent, (tx) => tx.projects.get((request.params as { id: string }).id), {
        readOnly: true,
      }),
    );
    app.post('/unit/events', async (request, reply) =>
      reply
        .status(201)
        .send(await store.withTenant(asAgent, (tx) => tx.events.append(request.body as never))),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const auth = { authorization: `Bearer ${f.key}` };
    const json = { 'content-type': 'application/json' };
    const event = JSON.stringify({
      type: 'question_asked',
      projectId: f.projectId,
      payload: { question: 'Which conventions apply to the bench?' },
    });

    const operations: Array<{ name: string } & Sides<Target>> = [
      {
        name: 'point read',
        api: { method: 'GET', path: `/v1/projects/${f.projectId}`, headers: auth },
        unit: { method: 'GET', path: `/unit/projects/${f.projectId}`, headers: {} },
        idiom: { method: 'GET', path: `/idiom/projects/${f.projectId}`, headers: {} },
        raw: { method: 'GET', path: `/raw/projects/${f.projectId}`, headers: {} },
      },
      {
        name: 'event append',
        api: { method: 'POST', path: '/v1/events', headers: { ...auth, ...json }, body: event },
        unit: { method: 'POST', path: '/unit/events', headers: json, body: event },
        idiom: { method: 'POST', path: '/idiom/events', headers: json, body: event },
        raw: { method: 'POST', path: '/raw/events', headers: json, body: event },
      },
    ];

    const usesBefore = await verifications(raw, f.credentialId);
    const started = performance.now();
    const rows: Array<{ name: string } & Awaited<ReturnType<typeof compare>>> = [];
    const skipped: string[] = [];
    for (const { name, ...targets } of operations) {
      // A route another part of the API adds may not be in this build yet.
      const { api } = targets;
      const probe = await fetch(`${base}${api.path}`, {
        method: api.method,
        headers: api.headers,
        ...(api.body === undefined ? {} : { body: api.body }),
      });
      if (probe.status === 404 && ((await probe.json()) as { type?: string }).type === 'route_not_found') {
        skipped.push(`${name}: ${api.method} ${api.path} is not served by this build`);
        continue;
      }
      rows.push({ name, ...(await compare(base, targets)) });
    }
    const seconds = (performance.now() - started) / 1000;
    const uses = (await verifications(raw, f.credentialId)) - usesBefore;
    const apiRequests = rows.reduce((sum, row) => sum + row.apiRequests, 0);
    await app.close();

    const bound = Math.ceil((seconds * 1000) / MAX_KEY_CACHE_MS) + 1;
    let missed = false;
    console.log(
      `server: ${url.host}; ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up per side, then ${ROUNDS} rounds of ${RUN_SECONDS} s per side (medians); pools of ${POOL}; coordination: ${coordination.backend}; rate limit ${RATE_LIMIT.limit}/min (never reached)\n`,
    );
    console.log(
      '| operation | API req/s | API p99 | bare unit req/s | bare unit p99 | idiom req/s | idiom p99 | raw req/s | raw p99 | API / raw | API / idiom | API / bare unit |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    const verdict = (ratio: number) =>
      `${ratio.toFixed(2)}× ${ratio >= TARGET_RATIO ? '(≥ 0.5: met)' : '(< 0.5: MISSED)'}`;
    for (const row of rows) {
      if (row.toRaw < TARGET_RATIO && row.toIdiom < TARGET_RATIO) missed = true;
      const side = ({ rps, p99 }: { rps: number; p99: number }) => `${rps.toFixed(0)} | ${p99} ms`;
      console.log(
        `| ${row.name} | ${side(row.api)} | ${side(row.unit)} | ${side(row.idiom)} | ${side(row.raw)} | ${verdict(row.toRaw)} | ${verdict(row.toIdiom)} | ${row.toUnit.toFixed(2)}× |`,
      );
    }
    for (const line of skipped) console.log(`skipped: ${line}`);
    const cached = uses <= bound;
    if (!cached) missed = true;
    console.log(
      `\nkey verification: ${uses} verification rows for ${apiRequests} authenticated requests over ${seconds.toFixed(0)} s (warm-ups included) — at most ${bound} allowed by the ${MAX_KEY_CACHE_MS / 1000} s cache: ${cached ? 'cached' : 'NOT CACHED'}`,
    );
    if (missed) process.exitCode = 1;
  } finally {
    await coordination.close();
    await raw.end();
    await idiom.end();
    await store.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
}

/** Verification rows of the credential so far (one per database verification). */
async function verifications(raw: ReturnType<typeof postgres>, credentialId: string): Promise<number> {
  const [row] =
    await raw`SELECT count(*)::int AS n FROM agent_credential_uses WHERE credential_id = ${credentialId}`;
  return (row as { n: number }).n;
}

await main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
