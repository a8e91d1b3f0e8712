import { createHash, randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import type { z } from 'zod';
import type { KeyRequest } from '../agents/agent-credentials.contract.ts';
import type { Coordination } from '../coordination/index.ts';
import type { RateLimiter } from '../coordination/rate-limiter.ts';
import { AgentflowError, AuthenticationError, ConfigurationError, ValidationError } from '../errors/index.ts';
import { EVENTS_CHANNEL } from '../events/events-stream.ts';
import { idempotencyKeySchema } from '../idempotency/idempotency-keys.contract.ts';
import { parseInput } from '../shared/validation.ts';
import type { RequestContext } from '../store/actor.ts';
import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { KeyVerificationCache, MAX_KEY_CACHE_MS, MembershipCheckCache } from './key-verification-cache.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { bearerToken, type LoginSessionData, type Principal, rateLimitKey } from './principal.ts';
import { toProblem } from './problem.ts';
import {
  type ApiRoute,
  coerceQuery,
  type ServerServices,
  type TenantRoute,
  type TenantRouteContext,
} from './route.ts';

export interface ApiServerOptions {
  store: Store;
  /** Rate limits, login sessions and the live timeline's notifications. */
  coordination: Coordination;
  routes: readonly ApiRoute[];
  /** Structured logs (pino): false for none; a level; or a level and a destination stream. */
  logger?: false | { level?: string; stream?: DestinationStream };
  /** Largest request body in bytes (default 4 MiB): an event batch of 1,000 fits. */
  bodyLimit?: number;
  /** Milliseconds a client has to send a whole request (default 30,000). */
  requestTimeoutMs?: number;
  /** Milliseconds a verified API key is trusted without asking the database (default and at most 5,000). */
  keyCacheMs?: number;
  /** Requests per credential (API key or login session) per window; false for none. */
  rateLimit?: { limit: number; windowMs: number } | false;
  /** Origins allowed by CORS; none by default (browsers get no cross-origin access). */
  corsOrigins?: readonly string[];
  /** Trust `X-Forwarded-For` for the client address (behind a proxy you run). Default false. */
  trustProxy?: boolean;
}

/** Requests per credential per minute when the caller sets no limit. */
export const DEFAULT_RATE_LIMIT = { limit: 6000, windowMs: 60_000 };
// Failed key verifications a client address or key prefix may make before being refused for a while.
const AUTH_FAILURE_LIMIT = { limit: 30, windowMs: 60_000 };
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const SESSION_TOKEN_MAX = 256;

/** Fields of request bodies and headers that must never reach a log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.password',
  '*.key',
  '*.token',
  '*.secret',
];

/** The request's details that go into its audit rows (and the usage row of a key verification). */
function requestContext(request: FastifyRequest): RequestContext & KeyRequest {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: String(request.id),
    clientAddress: request.ip,
    ...(userAgent ? { userAgent: userAgent.slice(0, 512) } : {}),
  };
}

/** A strong ETag: a hash of the representation's bytes. */
export function etagOf(json: string): string {
  return `"${createHash('sha256').update(json).digest('base64url').slice(0, 32)}"`;
}

/** Raised by the per-credential limiter: 429 with `Retry-After`. */
export class RateLimitedError extends AgentflowError {
  readonly code = 'rate_limited';
  constructor(readonly retryAfterMs: number) {
    super(`this credential spent its request budget; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** `If-Match` named a version that is not the row's current one. */
export class PreconditionFailedError extends AgentflowError {
  readonly code = 'precondition_failed';
}

interface Reply {
  status: number;
  json: string | undefined;
}

/**
 * The HTTP API over a store: each request is authenticated (agent API key or login session), rate
 * limited per credential, and run in its tenant's unit of work as its actor, so row-level security
 * applies to the API exactly as to the library. `close()` stops accepting connections and waits for
 * in-flight requests; closing the store and coordination is the caller's.
 */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  const { store, coordination, routes } = options;
  const keyCacheMs = options.keyCacheMs ?? MAX_KEY_CACHE_MS;
  const authFailures = coordination.rateLimiter({ name: 'api-auth-failures', ...AUTH_FAILURE_LIMIT });
  const keys = new KeyVerificationCache(store, keyCacheMs, authFailures);
  const members = new MembershipCheckCache(store, keyCacheMs);
  const rateLimit = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const limiter: RateLimiter | undefined = rateLimit
    ? coordination.rateLimiter({ name: 'api-requests', ...rateLimit })
    : undefined;
  // Aborted when the server starts closing, so that long-lived responses (SSE) end and do not hold
  // up a graceful shutdown.
  const closing = new AbortController();
  const services: ServerServices = {
    store,
    coordination,
    forgetCredential: (credentialId) => keys.forgetCredential(credentialId),
    closing: closing.signal,
  };
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.operationId))
      throw new ConfigurationError(`two API routes share the operationId ${route.operationId}`);
    seen.add(route.operationId);
  }

  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? 'info',
            redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
            ...(options.logger?.stream ? { stream: options.logger.stream } : {}),
          },
    bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Idle keep-alive connections close at once on close(); in-flight requests are answered first.
    forceCloseConnections: 'idle',
  });

  app.addHook('preClose', async () => closing.abort());

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // close() ends the connections idle at that moment; one busy then would stay open after its
  // response and hold close() for the keep-alive timeout (72 s), so responses sent while closing
  // end their connection.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing.signal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    const { problem, headers } = toProblem(error, String(request.id));
    if (problem.status >= 500)
      request.log.error(
        {
          err: {
            type: (error as Error).name,
            code: (error as { code?: unknown }).code,
            message: (error as Error).message,
            stack: (error as Error).stack,
          },
        },
        'request failed',
      );
    reply.status(problem.status).headers(headers).type('application/problem+json').send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .type('application/problem+json')
      .send({
        type: 'route_not_found',
        title: 'Not found',
        status: 404,
        detail: `no route ${request.method} ${request.url.split('?')[0]}`,
        instance: String(request.id),
      });
  });

  if (options.corsOrigins && options.corsOrigins.length > 0)
    await app.register(cors, {
      origin: [...options.corsOrigins],
      exposedHeaders: [
        'ETag',
        'X-Request-Id',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
      ],
    });

  /** The principal of a request's bearer credential: an agent's API key or a login session. */
  async function authenticate(request: FastifyRequest): Promise<Principal> {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined)
      throw new AuthenticationError(
        'missing_credentials',
        'send Authorization: Bearer <agent API key or login session token>',
      );
    if (token.startsWith('afk_')) {
      const identity = await keys.verify(token, requestContext(request));
      return {
        kind: 'agent',
        tenantId: identity.tenantId,
        actor: { type: 'agent', id: identity.agentId },
        credentialId: identity.credentialId,
      };
    }
    const session =
      token.length <= SESSION_TOKEN_MAX
        ? await coordination.sessions.touch<LoginSessionData>(token)
        : undefined;
    if (!session || typeof session.data?.tenantId !== 'string')
      throw new AuthenticationError(
        'invalid_session',
        'the session token is unknown, expired or logged out: log in again',
      );
    if (!(await members.isMember(session.data.tenantId, session.userId, session.id))) {
      await coordination.sessions.destroy(token);
      throw new AuthenticationError(
        'invalid_session',
        'the session’s user is no longer a member of its tenant: the session is ended',
      );
    }
    return {
      kind: 'user',
      tenantId: session.data.tenantId,
      actor: { type: 'user', id: session.userId },
      sessionId: session.id,
    };
  }

  /** Spends one request of the principal's budget and says so in RateLimit-* headers. */
  async function spend(principal: Principal, reply: FastifyReply): Promise<void> {
    if (!limiter || !rateLimit) return;
    const result = await limiter.consume(rateLimitKey(principal));
    reply.header('ratelimit-limit', String(result.limit));
    reply.header('ratelimit-remaining', String(result.remaining));
    reply.header('ratelimit-reset', String(Math.ceil(result.resetAfterMs / 1000)));
    reply.header('ratelimit-policy', `${rateLimit.limit};w=${Math.ceil(rateLimit.windowMs / 1000)}`);
    if (!result.allowed) throw new RateLimitedError(result.retryAfterMs);
  }

  function input(route: ApiRoute, request: FastifyRequest) {
    return {
      params: (route.params ? parseInput(route.params, request.params, 'path parameters') : {}) as Record<
        string,
        string
      >,
      query: route.query ? coerceQuery(route.query, request.query as Record<string, unknown>) : {},
      // Validated here for an early 422 without a unit of work; the repository parses it again.
      body: route.body ? validBody(route.body, request.body) : undefined,
    };
  }

  function validBody(schema: z.ZodType, body: unknown): unknown {
    parseInput(schema, body ?? {}, 'request body');
    return body ?? {};
  }

  async function runTenantRoute(
    route: TenantRoute,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Reply> {
    const principal = await authenticate(request);
    await spend(principal, reply);
    const { params, query, body } = input(route, request);
    if (route.query) parseInput(route.query, query, 'query parameters');
    const header = route.method === 'POST' ? request.headers['idempotency-key'] : undefined;
    if (header !== undefined && route.refusesIdempotencyKey)
      throw new ValidationError(`this request takes no Idempotency-Key: ${route.refusesIdempotencyKey}`, [
        { path: 'Idempotency-Key', message: route.refusesIdempotencyKey },
      ]);
    const idempotencyKey =
      header === undefined ? undefined : parseInput(idempotencyKeySchema, header, 'Idempotency-Key header');
    const readOnly = route.method === 'GET';
    // One statement and nothing else: set-up, statement and COMMIT travel in one round trip, so the
    // unit holds its connection half as long. Not with a key to claim or a version to compare.
    const singleStatement =
      route.singleStatement === true &&
      idempotencyKey === undefined &&
      request.headers['if-match'] === undefined;
    const result = await store.withTenant(
      { tenantId: principal.tenantId, actor: principal.actor, request: requestContext(request) },
      async (tx: TenantTx) => {
        const ctx: TenantRouteContext = { tx, principal, params, query, body, request, reply, services };
        let claim: { key: string; fingerprint: string } | undefined;
        if (idempotencyKey !== undefined) {
          claim = {
            key: idempotencyKey,
            fingerprint: createHash('sha256')
              .update(
                `${principal.actor.type}:${principal.actor.id}\n${route.method} ${request.url}\n${JSON.stringify(body ?? null)}`,
              )
              .digest('hex'),
          };
          const stored = await tx.idempotencyKeys.claim(claim);
          if (stored) {
            reply.header('idempotent-replayed', 'true');
            return { status: stored.status, json: stored.body ?? undefined };
          }
        }
        if (route.ifMatch) {
          const expected = request.headers['if-match'];
          if (expected !== undefined) {
            await route.ifMatch.lock(ctx);
            const current = etagOf(JSON.stringify(await route.ifMatch.current(ctx)));
            const accepted = String(expected)
              .split(',')
              .map((tag) => tag.trim());
            if (!accepted.includes('*') && !accepted.includes(current))
              throw new PreconditionFailedError(
                `If-Match ${expected} is not the current version (${current}): read it again`,
                { entity: route.tag },
              );
          }
        }
        const result = await route.handler(ctx);
        const json = result === undefined ? undefined : JSON.stringify(result);
        const status = json === undefined ? 204 : (route.status ?? 200);
        if (claim) await tx.idempotencyKeys.complete({ key: claim.key, status, body: json ?? null });
        return { status, json };
      },
      { ...(readOnly ? { readOnly: true } : {}), ...(singleStatement ? { singleStatement: true } : {}) },
    );
    if (!readOnly) notifyWrite(request, principal.tenantId);
    return result;
  }

  /**
   * Wakes the tenant's live timeline streams (in every process sharing the coordination store) once a
   * write has committed: it may have appended events, directly or by a trigger. Fire and forget: a
   * failure is logged, never the request's; the streams also poll.
   */
  function notifyWrite(request: FastifyRequest, tenantId: string): void {
    coordination.pubsub.publish(tenantId, EVENTS_CHANNEL, {}).catch((error: Error) => {
      request.log.warn({ err: { type: error.name, message: error.message } }, 'live timeline not notified');
    });
  }

  function send(request: FastifyRequest, reply: FastifyReply, { status, json }: Reply) {
    if (json === undefined) return reply.status(status).send();
    if (status === 200) {
      const etag = etagOf(json);
      reply.header('etag', etag);
      if (request.method === 'GET' && request.headers['if-none-match'] === etag)
        return reply.status(304).send();
    }
    return reply.status(status).type('application/json; charset=utf-8').send(json);
  }

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        if (route.kind === 'tenant') return send(request, reply, await runTenantRoute(route, request, reply));
        if (route.kind === 'public') {
          const { body } = input(route, request);
          const result = await route.handler({ ...services, body, request, reply });
          if (reply.sent) return reply;
          return send(request, reply, {
            status: result === undefined ? 204 : (route.status ?? 200),
            json: result === undefined ? undefined : JSON.stringify(result),
          });
        }
        const principal = await authenticate(request);
        await spend(principal, reply);
        const { query, body } = input(route, request);
        const result = await route.handler({ ...services, principal, query, body, request, reply });
        if (reply.sent) return reply;
        return send(request, reply, {
          status: result === undefined ? 204 : (route.status ?? 200),
          json: result === undefined ? undefined : JSON.stringify(result),
        });
      },
    });
  }

  const document = buildOpenApiDocument(routes, {
    title: 'AgentFlow DB API',
    version: '1',
    description:
      'Agents and members of one tenant use the store over HTTP. Authenticate with `Authorization: Bearer <agent API key>` or a login session token.',
  });
  app.get('/openapi.json', async () => document);
  await app.register(swagger, {
    mode: 'static',
    // biome-ignore lint/suspicious/noExplicitAny: the document is built and validated by buildOpenApiDocument's test.
    specification: { document: document as any },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/health', { logLevel: 'warn' }, async () => ({ ok: true }));
  return app;
}
