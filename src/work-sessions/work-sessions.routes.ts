import { z } from 'zod';
import { eventSchema } from '../events/events.routes.ts';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import { uuidSchema } from '../shared/validation.ts';
import { taskSchema } from '../tasks/tasks.routes.ts';
import {
  type ListWorkSessionsInput,
  type LogWorkSessionInput,
  listWorkSessionsSchema,
  logWorkSessionSchema,
  type StartWorkSessionInput,
  startWorkSessionSchema,
} from './work-sessions.contract.ts';
import { workSessions } from './work-sessions.schema.ts';

const session = rowSchema(workSessions);
const byId = idParams('sessionId');
const tag = 'work-sessions';
const recordTaskSchema = z.strictObject({ taskId: uuidSchema });

const started = {
  type: 'object',
  properties: {
    session,
    updates: {
      type: 'object',
      description: 'what changed for the agent since its previous session stopped',
      properties: {
        since: {
          anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }],
          description: 'when the previous session stopped; null for the agent’s first',
        },
        mentions: {
          ...pageSchema(eventSchema),
          description: 'events mentioning the agent since then, newest first; page on with GET /v1/events',
        },
        tasks: {
          type: 'array',
          items: taskSchema,
          description: 'tasks assigned to the agent since then, still its own, most recently changed first',
        },
      },
      required: ['since', 'mentions', 'tasks'],
    },
  },
  required: ['session', 'updates'],
} satisfies JsonSchema;

/** Agents' work sessions over HTTP: started → logging → stopped, at most one open per agent. */
export const workSessionRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/work-sessions',
    operationId: 'workSessions.start',
    covers: ['workSessions.start'],
    tag,
    summary: 'Start a work session (409 `session_open` when the agent has one) with the agent’s updates',
    body: startWorkSessionSchema,
    status: 201,
    response: started,
    handler: ({ tx, body }) => tx.workSessions.start(body as StartWorkSessionInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/work-sessions',
    operationId: 'workSessions.list',
    singleStatement: true,
    covers: ['workSessions.list'],
    tag,
    summary: 'List work sessions newest first, of one agent or project, optionally of one status',
    query: listWorkSessionsSchema,
    response: pageSchema(session),
    handler: ({ tx, query }) => tx.workSessions.list(query as ListWorkSessionsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/work-sessions/:sessionId',
    operationId: 'workSessions.get',
    singleStatement: true,
    covers: ['workSessions.get'],
    tag,
    summary: 'Read a work session',
    params: byId,
    response: session,
    handler: ({ tx, params }) => tx.workSessions.get(params.sessionId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/work-sessions/:sessionId/log',
    operationId: 'workSessions.log',
    covers: ['workSessions.log'],
    tag,
    summary: 'Log to an open session: a session_log event by the session’s agent',
    params: byId,
    body: logWorkSessionSchema,
    status: 201,
    response: eventSchema,
    handler: ({ tx, params, body }) => tx.workSessions.log(params.sessionId!, body as LogWorkSessionInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/work-sessions/:sessionId/tasks',
    operationId: 'workSessions.recordTask',
    covers: ['workSessions.recordTask'],
    tag,
    summary: 'Record that an open session worked on a task (once per task)',
    params: byId,
    body: recordTaskSchema,
    response: session,
    handler: ({ tx, params, body }) =>
      tx.workSessions.recordTask(params.sessionId!, (body as z.input<typeof recordTaskSchema>).taskId),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/work-sessions/:sessionId/stop',
    operationId: 'workSessions.stop',
    covers: ['workSessions.stop'],
    tag,
    summary: 'Stop an open session; the database stamps the stop and the duration, and it is frozen',
    params: byId,
    response: session,
    handler: ({ tx, params }) => tx.workSessions.stop(params.sessionId!),
  }),
];
