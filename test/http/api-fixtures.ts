import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Coordination, createMemoryCoordination } from '../../src/coordination/index.ts';
import { apiRoutes } from '../../src/http/routes.ts';
import { type ApiServerOptions, createApiServer } from '../../src/http/server.ts';
import type { Store } from '../../src/index.ts';
import { createAgent, createTenant, type TenantFixture } from '../harness/fixtures.ts';

export interface ApiHarness {
  app: FastifyInstance;
  coordination: Coordination;
  close(): Promise<void>;
}

/** The API over `store`, with in-memory coordination and no logs unless told otherwise. */
export async function startApi(
  store: Store,
  options: Partial<Omit<ApiServerOptions, 'store'>> = {},
): Promise<ApiHarness> {
  const coordination = options.coordination ?? createMemoryCoordination();
  const app = await createApiServer({ routes: apiRoutes, logger: false, ...options, store, coordination });
  return {
    app,
    coordination,
    async close() {
      await app.close();
      if (!options.coordination) await coordination.close();
    },
  };
}

export interface AgentWithKey {
  agentId: string;
  credentialId: string;
  /** The full API key text. */
  key: string;
}

/** An active agent of `tenantId` with one live API key, created through the service role. */
export async function agentWithKey(
  store: Store,
  tenantId: string,
  options: Parameters<typeof createAgent>[2] = {},
): Promise<AgentWithKey> {
  const agentId = await createAgent(store, tenantId, options);
  const issued = await store.asService({ actor: 'test-fixture' }, (svc) =>
    svc.agentCredentials.issue(tenantId, { agentId }),
  );
  return { agentId, credentialId: issued.credential.id, key: issued.key.reveal() };
}

/** A tenant with an owner and an organization agent holding a key. */
export async function tenantWithAgent(store: Store): Promise<TenantFixture & { agent: AgentWithKey }> {
  const tenant = await createTenant(store);
  return { ...tenant, agent: await agentWithKey(store, tenant.tenant.id) };
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The client address the server sees (default 127.0.0.1): see freshAddress. */
  remoteAddress?: string;
}

let addresses = 0;
/** A client address no other request of this file used: its failure budgets (logins, keys) are full. */
export function freshAddress(): string {
  addresses++;
  return `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}`;
}

/** One request through Fastify's injection (no socket), with the bearer credential and JSON body. */
export function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  options: CallOptions = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { payload: options.body as InjectOptions['payload'] }),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

/** The parsed JSON body of a response. */
export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

/** A login session token of the tenant's owner, made in the API's coordination (as logging in would). */
export async function ownerToken(api: ApiHarness, fixture: TenantFixture): Promise<string> {
  const session = await api.coordination.sessions.create(fixture.owner.id, { tenantId: fixture.tenant.id });
  return session.token;
}
