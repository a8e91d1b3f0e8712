import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type AppendEventBatchInput,
  type AppendEventInput,
  appendEventBatchSchema,
  appendEventSchema,
  type ListEventsInput,
  listEventsSchema,
} from './events.contract.ts';
import { events } from './events.schema.ts';

const row = rowSchema(events) as JsonSchema & { properties: Record<string, JsonSchema> };

/** An event as the API returns it: its id an integer, its payload and metadata JSON objects. */
export const eventSchema: JsonSchema = {
  ...row,
  properties: {
    ...row.properties,
    payload: { type: 'object', description: 'the fields of the event’s type (see the append body)' },
    mentions: { type: 'array', items: { type: 'string', format: 'uuid' } },
    metadata: { type: 'object' },
    txId: {
      type: 'string',
      pattern: '^[0-9]+$',
      description: 'the id of the transaction that wrote it (events written together share it)',
    },
  },
};

const tag = 'events';
// Whole digits only, so no other segment (`stream`) reads as an id; 15 digits stay exact in JSON.
const byId = z.strictObject({ eventId: z.string().regex(/^[1-9][0-9]{0,14}$/, 'a positive whole number') });

/** The tenant's timeline over HTTP (the live stream is events-stream's). */
export const eventRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/events',
    operationId: 'events.append',
    singleStatement: true,
    covers: ['events.append'],
    tag,
    summary:
      'Append an event, its payload checked against its type; an agent writes only as itself, and system types are the database’s',
    body: appendEventSchema,
    status: 201,
    response: eventSchema,
    handler: ({ tx, body }) => tx.events.append(body as AppendEventInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/events/batch',
    operationId: 'events.appendBatch',
    covers: ['events.appendBatch'],
    tag,
    summary: 'Append 1 to 1,000 events (a JSON array) in one write: all of them or none, in order',
    body: appendEventBatchSchema,
    status: 201,
    response: {
      type: 'object',
      properties: { items: { type: 'array', items: eventSchema } },
      required: ['items'],
    },
    handler: async ({ tx, body }) => ({ items: await tx.events.appendBatch(body as AppendEventBatchInput) }),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/events',
    operationId: 'events.list',
    singleStatement: true,
    covers: ['events.list'],
    tag,
    summary:
      'Page the timeline newest first; `type` may repeat or list types comma-separated, `from`/`to` are ISO times',
    query: listEventsSchema,
    response: pageSchema(eventSchema),
    handler: ({ tx, query }) => tx.events.list(query as ListEventsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/events/:eventId',
    operationId: 'events.get',
    singleStatement: true,
    covers: ['events.get'],
    tag,
    summary: 'Read an event',
    params: byId,
    response: eventSchema,
    handler: ({ tx, params }) => tx.events.get(Number(params.eventId)),
  }),
];
