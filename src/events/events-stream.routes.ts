import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Subscription } from '../coordination/pubsub.ts';
import { AgentflowError, ConfigurationError } from '../errors/index.ts';
import { bearerToken, type Principal, rateLimitKey } from '../http/principal.ts';
import type { SessionRoute } from '../http/route.ts';
import { parseInput, uuidSchema } from '../shared/validation.ts';
import type { Store } from '../store/store.ts';
import {
  currentStreamPosition,
  decodeStreamCursor,
  EVENTS_CHANNEL,
  encodeStreamCursor,
  readEventStream,
  type StreamPosition,
} from './events-stream.ts';

export interface EventStreamOptions {
  /**
   * Milliseconds between reads when nothing wakes a stream (default 1000): events written outside
   * this API (the CLI, another process, SQL) arrive within it. Writes through the API wake the
   * tenant's streams at once, through the coordination pub/sub.
   */
  pollMs?: number;
  /** Milliseconds between heartbeat comments, which keep proxies from dropping a quiet stream (default 15,000). */
  heartbeatMs?: number;
  /** Streams one credential (API key or login session) may hold open on one server (default 5). */
  maxStreamsPerCredential?: number;
  /** The most events one read takes (default 500). */
  batchSize?: number;
}

/** One stream too many for a credential: 429, retry once one of its streams has closed. */
export class TooManyStreamsError extends AgentflowError {
  readonly code = 'rate_limited';
  readonly retryAfterMs = 5000;
}

const streamQuerySchema = z.strictObject({
  /** Only the events of this project. */
  projectId: uuidSchema.optional(),
});
const streamHeadersSchema = z.strictObject({
  'Last-Event-ID': z
    .string()
    .max(64)
    .optional()
    .describe('the id of the last event received: the stream resumes right after it'),
});

const READ = { readOnly: true } as const;

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigurationError(`${name} must be a whole number >= 1, not ${value}`);
  return value;
}

/**
 * Whether the credential a stream was opened with still stands: an agent's key not revoked or
 * expired since, a login session not ended. Checked at each heartbeat; the agent itself (not
 * terminated, not deleted) is checked by every read.
 */
async function credentialStands(
  store: Store,
  principal: Principal,
  sessionToken: string,
  sessions: { get(token: string): Promise<unknown> },
): Promise<boolean> {
  if (principal.kind === 'user') return (await sessions.get(sessionToken)) !== undefined;
  const credential = await store.withTenant(
    { tenantId: principal.tenantId, actor: principal.actor },
    (tx) => tx.agentCredentials.get(principal.credentialId),
    READ,
  );
  return (
    credential.revokedAt === null && (credential.expiresAt === null || credential.expiresAt > new Date())
  );
}

/**
 * `GET /v1/events/stream`: the tenant's new events as Server-Sent Events. Each read is its own
 * read-only unit of work as the caller (row-level security applies; an agent terminated meanwhile
 * ends its stream at its next read). See events-stream.ts for the order that makes a resumed stream
 * skip nothing and repeat nothing.
 */
export function eventStreamRoute(options: EventStreamOptions = {}): SessionRoute {
  const pollMs = positiveInteger(options.pollMs ?? 1000, 'pollMs');
  const heartbeatMs = positiveInteger(options.heartbeatMs ?? 15_000, 'heartbeatMs');
  const maxStreams = positiveInteger(options.maxStreamsPerCredential ?? 5, 'maxStreamsPerCredential');
  const batchSize = positiveInteger(options.batchSize ?? 500, 'batchSize');
  // Open streams per credential, per server.
  const openStreams = new WeakMap<FastifyInstance, Map<string, number>>();

  return {
    kind: 'session',
    method: 'GET',
    path: '/v1/events/stream',
    operationId: 'events.stream',
    tag: 'events',
    summary:
      'The live timeline: new events as Server-Sent Events (`id` a cursor, `event` the type, `data` the event), resumable with `Last-Event-ID`',
    query: streamQuerySchema,
    headers: streamHeadersSchema,
    responseType: 'text/event-stream',
    response: {
      type: 'string',
      description:
        'Server-Sent Events: `id: <cursor>`, `event: <type>`, `data: <the event as JSON>`; comment heartbeats. Without `Last-Event-ID` it starts at the present: events committed from then on (and any committed just before while an older transaction was still open).',
    },
    handler: async ({ store, coordination, principal, query, request, reply, closing }) => {
      const { projectId } = parseInput(streamQuerySchema, query, 'query parameters');
      const context = { tenantId: principal.tenantId, actor: principal.actor };
      // A login session is checked again by its token (as the server authenticated it).
      const sessionToken = bearerToken(request.headers.authorization) ?? '';
      const headers = parseInput(
        streamHeadersSchema,
        request.headers['last-event-id'] === undefined
          ? {}
          : { 'Last-Event-ID': request.headers['last-event-id'] },
        'headers',
      );
      const resumeFrom =
        headers['Last-Event-ID'] === undefined
          ? undefined
          : decodeStreamCursor(headers['Last-Event-ID'], 'Last-Event-ID');

      const counts = openStreams.get(request.server) ?? new Map<string, number>();
      openStreams.set(request.server, counts);
      const credential = rateLimitKey(principal);
      const open = counts.get(credential) ?? 0;
      if (open >= maxStreams)
        throw new TooManyStreamsError(
          `this credential has ${open} live timeline streams open, the most allowed: close one first`,
        );
      counts.set(credential, open + 1);
      const release = () => {
        const left = (counts.get(credential) ?? 1) - 1;
        if (left > 0) counts.set(credential, left);
        else counts.delete(credential);
      };

      let wake: (() => void) | undefined;
      let notified = false;
      let subscription: Subscription | undefined;
      let position: StreamPosition;
      try {
        // Subscribed before the first read, so that no notification falls between the two.
        subscription = await coordination.pubsub
          .subscribe(principal.tenantId, EVENTS_CHANNEL, () => {
            notified = true;
            wake?.();
          })
          .catch((error: Error) => {
            request.log.warn(
              { err: { type: error.name, message: error.message } },
              'live timeline not subscribed to notifications: polling only',
            );
            return undefined;
          });
        // The first unit refuses (as problem+json, before the stream starts) a caller who may not
        // read, and a project that is not the tenant's.
        position = await store.withTenant(
          context,
          async (tx) => {
            if (projectId) await tx.projects.get(projectId);
            return resumeFrom ?? currentStreamPosition(tx);
          },
          READ,
        );
      } catch (error) {
        release();
        await subscription?.unsubscribe();
        throw error;
      }

      reply.hijack();
      const res: ServerResponse = reply.raw;
      // The headers set so far (request id, rate limit, CORS) go out with the stream's own.
      for (const [name, value] of Object.entries(reply.getHeaders()))
        if (value !== undefined) res.setHeader(name, value);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // Nginx would buffer the stream otherwise.
        'x-accel-buffering': 'no',
        // A stream is not followed by another request on its connection: closing it with the
        // response lets a server shutdown finish at once.
        connection: 'close',
      });
      // The start as the last event id: a client that reconnects before any event resumes here.
      res.write(`id: ${encodeStreamCursor(position)}\n\n`);

      let closed = false;
      let sent = 0;
      let checking = false;
      const heartbeat = setInterval(() => {
        res.write(':keep-alive\n\n');
        if (checking) return;
        checking = true;
        credentialStands(store, principal, sessionToken, coordination.sessions)
          .then(
            (stands) => {
              if (!stands) close('credential revoked, expired or logged out');
            },
            (error: Error) => close(`credential check failed: ${error.name}`),
          )
          .finally(() => {
            checking = false;
          });
      }, heartbeatMs);
      const close = (reason: string) => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        closing.removeEventListener('abort', onServerClose);
        wake?.();
        release();
        subscription?.unsubscribe().catch(() => {});
        // A client that stopped reading would hold the shutdown up: its connection is dropped.
        if (res.writableNeedDrain) res.destroy();
        else res.end();
        request.log.info({ reason, events: sent }, 'event stream closed');
      };
      const onServerClose = () => close('server closing');
      if (closing.aborted) return close('server closing');
      closing.addEventListener('abort', onServerClose);
      res.on('close', () => close('client disconnected'));
      // Writes to a connection the client dropped fail; 'close' ends the stream.
      res.on('error', () => {});

      /** Resolves after `ms`, at a notification, or when the stream closes. */
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, ms);
          wake = done;
        });

      while (!closed) {
        notified = false;
        let batch: Awaited<ReturnType<typeof readEventStream>>;
        try {
          batch = await store.withTenant(
            context,
            (tx) => readEventStream(tx, { after: position, projectId, limit: batchSize }),
            { readOnly: true, singleStatement: true },
          );
        } catch (error) {
          // The caller may no longer read (terminated, suspended), or the database is away: the
          // client reconnects with its Last-Event-ID and is told which.
          close(`read failed: ${(error as Error).name}`);
          break;
        }
        if (closed) break;
        if (batch.events.length > 0) {
          res.write(
            batch.events
              .map(
                ({ event, position: after }) =>
                  `id: ${encodeStreamCursor(after)}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
              )
              .join(''),
          );
          sent += batch.events.length;
        }
        position = batch.next;
        // A slow client: read no further until it has taken what was sent.
        while (res.writableNeedDrain && !closed)
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done).off('close', done);
              resolve();
            };
            res.on('drain', done).on('close', done);
          });
        if (!batch.more && !notified) await pause(pollMs);
      }
      return reply;
    },
  };
}

/** The route with its defaults, as `apiRoutes` serves it. */
export const eventStreamRoutes: readonly SessionRoute[] = [eventStreamRoute()];
