import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type Coordination, createCoordination } from '../coordination/index.ts';
import { ConfigurationError } from '../errors/index.ts';
import { apiRoutes } from '../http/routes.ts';
import { createApiServer } from '../http/server.ts';
import { DEMO_TENANTS, type DemoSeedResult, seedDemo } from '../seed/demo-seed.ts';
import { openStore, type Store } from '../store/store.ts';
import { print, printSeed } from './output.ts';

export interface ServeOptions {
  /** postgres://…, pglite://<dir> or memory://; default DATABASE_URL, else ./.agentflow/. */
  url?: string;
  /** Print the start-up banner as one JSON line (logs are JSON lines already). */
  json?: boolean;
  host: string;
  /** 0 asks the system for any free port; the banner says which. */
  port: number;
  /** A pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: string;
  corsOrigins: readonly string[];
  /** Requests per credential per minute; 0 for no limit; undefined for the server's default. */
  rateLimit?: number;
  /** Print a demo agent's key on a server store too (the embedded store always gets one). */
  demoKey?: boolean;
}

/** A request whose statement runs longer is cancelled by the server and answered 503 `timeout`. */
const STATEMENT_TIMEOUT_MS = 30_000;
const POOL_SIZE = 10;
/** Idempotency keys expire after 24 h; pruning hourly keeps the table at about a day of POSTs. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** The service actor serve's own writes are audited as; the demo keys it issued are found by it. */
export const SERVE_ACTOR = 'cli:serve';

const demoTenant = DEMO_TENANTS[0]!;
const demoAgent = demoTenant.agents.find((agent) => agent.type === 'orchestrator')!;

export interface DemoKey {
  tenant: string;
  agent: string;
  key: string;
}

/** What serve prints once it listens (`--json`: this object on one line). */
export interface ServeBanner {
  url: string;
  docsUrl: string;
  openapiUrl: string;
  engine: string;
  coordination: Coordination['backend'];
  /** A key of the demo orchestrator issued for this run, or null when none is printed. */
  demoKey: DemoKey | null;
  curl: string;
  /** What a first run on the embedded store seeded (logins and keys shown once), or null. */
  seeded: DemoSeedResult | null;
}

/**
 * `agentflow serve`: migrates, seeds the demo into an empty embedded store, serves the HTTP API
 * until SIGINT or SIGTERM, then stops cleanly: Fastify's close lets in-flight requests finish
 * (and closes idle connections), then coordination and the store's pool close.
 */
export async function serve(options: ServeOptions): Promise<void> {
  // Caught from the start: a signal during migrations or seeding ends the run once they are done,
  // instead of killing the process halfway through a unit of work.
  const stop = stopSignal();
  try {
    const store = await openStore({
      url: options.url,
      migrate: true,
      postgres: { max: POOL_SIZE, statementTimeout: STATEMENT_TIMEOUT_MS },
    });
    try {
      const embedded = store.engine.kind === 'pglite';
      const seeded = embedded ? await seedIfEmpty(store) : null;
      const demoKey = embedded || options.demoKey ? await issueDemoKey(store) : null;
      const coordination = await createCoordination();
      try {
        await run(store, coordination, options, { seeded, demoKey }, stop.received);
      } finally {
        await coordination.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    stop.dispose();
  }
}

async function run(
  store: Store,
  coordination: Coordination,
  options: ServeOptions,
  demo: Pick<ServeBanner, 'seeded' | 'demoKey'>,
  stopped: Promise<NodeJS.Signals>,
): Promise<void> {
  const app = await createApiServer({
    store,
    coordination,
    routes: apiRoutes,
    logger: { level: options.logLevel },
    corsOrigins: options.corsOrigins,
    ...(options.rateLimit === undefined
      ? {}
      : { rateLimit: options.rateLimit === 0 ? false : { limit: options.rateLimit, windowMs: 60_000 } }),
  });
  let pruning = pruneIdempotencyKeys(store, app);
  const timer = setInterval(() => {
    pruning = pruneIdempotencyKeys(store, app);
  }, PRUNE_EVERY_MS);
  try {
    await pruning;
    await listen(app, options);
    const banner = bannerOf(app, store, coordination, options, demo);
    if (options.json) print(JSON.stringify(banner));
    else printBanner(banner);
    const signal = await stopped;
    app.log.info({ signal }, 'stopping: finishing in-flight requests');
  } finally {
    clearInterval(timer);
    await app.close();
    await pruning;
  }
  app.log.info('HTTP server closed');
}

async function listen(app: FastifyInstance, options: ServeOptions): Promise<void> {
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new ConfigurationError(`${options.host}:${options.port} is in use: pass another --port`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new ConfigurationError(`cannot listen on ${options.host}:${options.port} (${code})`);
    throw error;
  }
}

/** The first SIGINT or SIGTERM. A second one gets Node's default: the process ends at once. */
function stopSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  const listeners: Array<[NodeJS.Signals, () => void]> = [];
  const received = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const listener = () => {
        dispose();
        resolve(signal);
      };
      listeners.push([signal, listener]);
      process.once(signal, listener);
    }
  });
  const dispose = () => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  };
  return { received, dispose };
}

/** The demo, on a first run only: an embedded store with no tenant at all (the rule `start` uses). */
async function seedIfEmpty(store: Store): Promise<DemoSeedResult | null> {
  const some = await store.asService({ actor: SERVE_ACTOR }, (svc) => svc.tenants.list({ limit: 1 }));
  return some.items.length === 0 ? seedDemo(store) : null;
}

/**
 * A fresh key of the demo orchestrator for this run, so the banner's curl works: the key text is
 * stored nowhere (only a hash), so the seed's key cannot be shown again. The keys earlier runs
 * issued (found by their audit rows, written as SERVE_ACTOR) are revoked in the same unit, so at
 * most one serve-issued key is live; keys issued any other way are left alone. Null when the demo
 * tenant or agent is gone, suspended or terminated.
 */
async function issueDemoKey(store: Store): Promise<DemoKey | null> {
  return store.asService({ actor: SERVE_ACTOR }, async (svc) => {
    const [found] = await svc.query<{ tenant_id: string; agent_id: string }>(
      `SELECT t.id AS tenant_id, a.id AS agent_id
         FROM tenants t JOIN agents a ON a.tenant_id = t.id
        WHERE t.slug = $1 AND t.status = 'active' AND t.deleted_at IS NULL
          AND a.code = $2 AND a.status <> 'terminated' AND a.deleted_at IS NULL`,
      [demoTenant.slug, demoAgent.code],
    );
    if (!found) return null;
    const earlier = await svc.query<{ key_prefix: string }>(
      `SELECT c.key_prefix FROM agent_credentials c
        WHERE c.tenant_id = $1 AND c.agent_id = $2 AND c.revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM audit_logs l
                       WHERE l.tenant_id = c.tenant_id AND l.table_name = 'agent_credentials'
                         AND l.row_id = c.id::text AND l.action = 'insert'
                         AND l.actor_type = 'service' AND l.actor_id = $3)`,
      [found.tenant_id, found.agent_id, SERVE_ACTOR],
    );
    for (const { key_prefix } of earlier)
      await svc.agentCredentials.revoke(found.tenant_id, { agentId: found.agent_id, keyPrefix: key_prefix });
    const issued = await svc.agentCredentials.issue(found.tenant_id, { agentId: found.agent_id });
    return { tenant: demoTenant.slug, agent: demoAgent.code, key: issued.key.reveal() };
  });
}

async function pruneIdempotencyKeys(store: Store, app: FastifyInstance): Promise<void> {
  try {
    const pruned = await store.asService({ actor: SERVE_ACTOR }, (svc) => svc.idempotencyKeys.prune());
    app.log.info({ pruned }, 'pruned expired idempotency keys');
  } catch (error) {
    // The next hour tries again; the API works the same meanwhile.
    app.log.error({ err: error }, 'pruning expired idempotency keys failed');
  }
}

/** The base URL a client on this machine uses: a wildcard address is reached through loopback. */
function baseUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on TCP');
  const shown =
    address.address === '0.0.0.0'
      ? '127.0.0.1'
      : address.address === '::'
        ? '[::1]'
        : isIP(host) === 0
          ? host
          : address.family === 'IPv6'
            ? `[${address.address}]`
            : address.address;
  return `http://${shown}:${address.port}`;
}

function bannerOf(
  app: FastifyInstance,
  store: Store,
  coordination: Coordination,
  options: ServeOptions,
  demo: Pick<ServeBanner, 'seeded' | 'demoKey'>,
): ServeBanner {
  const url = baseUrl(app, options.host);
  const key = demo.demoKey?.key ?? '$AGENTFLOW_KEY';
  return {
    url,
    docsUrl: `${url}/docs`,
    openapiUrl: `${url}/openapi.json`,
    engine: `${store.engine.kind} (${store.engine.location})`,
    coordination: coordination.backend,
    demoKey: demo.demoKey,
    curl: `curl -H "Authorization: Bearer ${key}" ${url}/v1/projects`,
    seeded: demo.seeded,
  };
}

function printBanner(banner: ServeBanner): void {
  if (banner.seeded) printSeed(banner.seeded);
  print(`AgentFlow DB API on ${banner.url}  [${banner.engine}, coordination: ${banner.coordination}]`);
  print(`  docs     ${banner.docsUrl}`);
  print(`  openapi  ${banner.openapiUrl}`);
  if (banner.demoKey)
    print(
      `try it as the demo agent ${banner.demoKey.tenant}/${banner.demoKey.agent} (a key issued for this run; the previous run's is revoked):`,
    );
  else
    print(
      'try it with an agent key (`agentflow agent key issue --tenant <slug> --agent <code>` prints one):',
    );
  print(`  ${banner.curl}`);
  print('Ctrl-C stops the server (in-flight requests finish first).');
}
