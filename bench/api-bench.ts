/**
 * The HTTP API against the floor under it, with autocannon (50 connections, server engine).
 *
 * One Fastify server, built by createApiServer as `agentflow serve` builds it, carries two extra
 * raw routes with no authentication, served by raw postgres.js on a pool of its own of the same
 * size as the store's (10):
 * - point read: `GET /v1/projects/:id` (API key verified through the ≤5 s cache, rate limit spent,
 *   a read-only tenant unit of work as the agent under row-level security, ETag) against
 *   `GET /raw/projects/:id` (one SELECT of the same row by its key);
 * - event append: `POST /v1/events` (the same, a write unit, the body checked against the event
 *   contract) against `POST /raw/events` (one INSERT … RETURNING *).
 * Each of the four runs gets a 2 s warm-up, then 5 s measured; the bench prints requests/s and p99
 * latency of each and the ratio API / raw (target ≥ 0.5× for both). The rate limit is set to 10^8
 * requests a minute: the limiter is consulted on every API request as in production, and never
 * refuses one. autocannon fires from a worker thread, not the server's event loop.
 *
 * It also counts the key's verification rows (agent_credential_uses) written during the runs: a
 * cached verification writes none, so there is one per ≤5 s (the cache's bound), not one per request.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/api-bench.ts
 *
 * Creates its own database `bench_api` on that server, and drops it. Exits non-zero when a target
 * is missed.
 */
import autocannon, { type Result } from 'autocannon';
import { createCoordination } from '../src/coordination/index.ts';
import { postgres } from '../src/engine/postgres-driver.ts';
import { MAX_KEY_CACHE_MS } from '../src/http/key-verification-cache.ts';
import { apiRoutes } from '../src/http/routes.ts';
import { createApiServer } from '../src/http/server.ts';
import { openStore, type Store } from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_api';
const POOL = 10;
const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const RUN_SECONDS = 5;
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

/** Warm-up, then the measured run (with the requests of both); a failed request fails the bench. */
async function measure(base: string, target: Target): Promise<Result & { sent: number }> {
  const warmUp = await load(base, target, WARMUP_SECONDS);
  const result = await load(base, target, RUN_SECONDS);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(
      `${target.method} ${target.path}: ${result.non2xx} non-2xx responses (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`,
    );
  return { ...result, sent: warmUp.requests.total + result.requests.total };
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const store = await openStore({ url: url.toString(), migrate: true, postgres: { max: POOL } });
  const raw = postgres(url.toString(), { max: POOL, onnotice: () => {} });
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
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const auth = { authorization: `Bearer ${f.key}` };
    const json = { 'content-type': 'application/json' };
    const event = JSON.stringify({
      type: 'question_asked',
      projectId: f.projectId,
      payload: { question: 'Which conventions apply to the bench?' },
    });

    const pairs: Array<{ name: string; api: Target; raw: Target }> = [
      {
        name: 'point read',
        api: { method: 'GET', path: `/v1/projects/${f.projectId}`, headers: auth },
        raw: { method: 'GET', path: `/raw/projects/${f.projectId}`, headers: {} },
      },
      {
        name: 'event append',
        api: { method: 'POST', path: '/v1/events', headers: { ...auth, ...json }, body: event },
        raw: { method: 'POST', path: '/raw/events', headers: json, body: event },
      },
    ];

    const usesBefore = await verifications(raw, f.credentialId);
    const started = performance.now();
    const rows: Array<{ name: string; api: Awaited<ReturnType<typeof measure>>; raw: Result }> = [];
    const skipped: string[] = [];
    for (const pair of pairs) {
      // A route another part of the API adds may not be in this build yet.
      const probe = await fetch(`${base}${pair.api.path}`, {
        method: pair.api.method,
        headers: pair.api.headers,
        ...(pair.api.body === undefined ? {} : { body: pair.api.body }),
      });
      if (probe.status === 404 && ((await probe.json()) as { type?: string }).type === 'route_not_found') {
        skipped.push(`${pair.name}: ${pair.api.method} ${pair.api.path} is not served by this build`);
        continue;
      }
      rows.push({ name: pair.name, api: await measure(base, pair.api), raw: await measure(base, pair.raw) });
    }
    const seconds = (performance.now() - started) / 1000;
    const uses = (await verifications(raw, f.credentialId)) - usesBefore;
    const apiRequests = rows.reduce((sum, row) => sum + row.api.sent, 0);
    await app.close();

    const bound = Math.ceil((seconds * 1000) / MAX_KEY_CACHE_MS) + 1;
    let missed = false;
    console.log(
      `server: ${url.host}; ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${RUN_SECONDS} s per run; pools of ${POOL}; coordination: ${coordination.backend}; rate limit ${RATE_LIMIT.limit}/min (never reached)\n`,
    );
    console.log('| operation | API requests/s | API p99 | raw requests/s | raw p99 | API / raw |');
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) {
      const ratio = row.api.requests.average / row.raw.requests.average;
      if (ratio < TARGET_RATIO) missed = true;
      console.log(
        `| ${row.name} | ${row.api.requests.average.toFixed(0)} | ${row.api.latency.p99} ms | ${row.raw.requests.average.toFixed(0)} | ${row.raw.latency.p99} ms | ${ratio.toFixed(2)}× ${ratio >= TARGET_RATIO ? '(≥ 0.5: met)' : '(< 0.5: MISSED)'} |`,
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
