import { and, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type AppendEventBatchInput,
  type AppendEventInput,
  appendEventBatchSchema,
  appendEventSchema,
  type ListEventsInput,
  listEventsSchema,
} from './events.contract.ts';
import { type Event, eventMentions, events } from './events.schema.ts';

// Newest first: (occurred_at, id) descending. Events of one transaction share occurred_at.
const eventsKey = z.tuple([cursorTimestamp, z.number().int().positive()]);
const eventId = z.number().int().positive();

const columns = getTableColumns(events);
const insertOne = compileStatement(
  columns,
  ['tenantId', 'type', 'projectId', 'sessionId', 'authorId', 'payload', 'mentions', 'metadata'],
  (db, p) =>
    db
      .insert(events)
      .values({
        tenantId: p.tenantId,
        type: p.type,
        projectId: p.projectId,
        sessionId: p.sessionId,
        authorId: p.authorId,
        payload: p.payload,
        mentions: p.mentions,
        metadata: p.metadata,
      })
      .returning(),
);
// A batch travels as one JSON document and is unpacked by the database: one parameter instead of
// eight per event, so neither the query builder nor the driver handles 8,000 values. Drizzle's
// insert-select names the identity column, which only the database may fill, so the statement is
// written out; it is only built here (getQuery), and run by the compiled statement. Identity values
// follow the document's order; occurred_at is the database's.
/** What the database decides for each event of a batch; the rest is what was sent. */
const decided = {
  id: events.id,
  occurredAt: events.occurredAt,
  projectId: events.projectId,
  authorId: events.authorId,
  txId: events.txId,
};
type Decided = { [Key in keyof typeof decided]: Event[Key] };
const insertBatch = compileStatement<'tenantId' | 'batch', Decided>(
  decided,
  ['tenantId', 'batch'],
  (db, p) => {
    const statement =
      db.execute(sql`INSERT INTO ${events} (tenant_id, type, project_id, session_id, author_id, payload, mentions, metadata)
    SELECT ${p.tenantId}::uuid, x.e->>'type', (x.e->>'projectId')::uuid, (x.e->>'sessionId')::uuid,
           (x.e->>'authorId')::uuid, x.e->'payload', (x.e->>'mentions')::uuid[], x.e->'metadata'
      FROM jsonb_array_elements((${p.batch}::text)::jsonb) WITH ORDINALITY AS x(e, n)
     ORDER BY x.n
    RETURNING id, occurred_at, project_id, author_id, tx_id`);
    return Object.assign(statement as unknown as PromiseLike<Decided[]>, {
      toSQL: () => statement.getQuery(),
    });
  },
);
// By id: events_id_idx (tenant_id, id), since the primary key leads with occurred_at.
const selectById = compileStatement(columns, ['tenantId', 'id'], (db, p) =>
  db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, p.tenantId), eq(events.id, p.id))),
);

/** The row values of one validated event: absent fields as the database's defaults. */
function rowOf(tx: TenantScope, event: z.output<typeof appendEventSchema>) {
  return {
    tenantId: tx.tenantId,
    type: event.type,
    projectId: event.projectId ?? null,
    sessionId: event.sessionId ?? null,
    authorId: event.authorId ?? null,
    payload: event.payload as Record<string, unknown>,
    mentions: event.mentions ?? [],
    metadata: event.metadata ?? {},
  };
}

/**
 * Events before the cursor's in (occurred_at, id) descending order. Its exact time is read back by
 * its id (exactTimestamp, microseconds), so events sharing a millisecond are neither skipped nor
 * repeated; events appended meanwhile sort before the first page (newer) or, from a transaction
 * that began earlier, among what is still to come: never twice, and never one committed before
 * the paging began left out.
 */
function before(cursor: string, order: Ordering): SQL {
  const [at, id] = decodeCursor('events', cursor, eventsKey);
  const exact = exactTimestamp(events.occurredAt, events.id, at, id);
  return sql`(${order.time}, ${order.id}) < (${exact}, ${id})`;
}

/** The columns a page is ordered by: the event's own, or its mention row's (the same values). */
interface Ordering {
  time: AnyPgColumn;
  id: AnyPgColumn;
}
const byEvent: Ordering = { time: events.occurredAt, id: events.id };
const byMention: Ordering = { time: eventMentions.occurredAt, id: eventMentions.eventId };

/** What a list reads: the tenant, its filters, and the agent whose mentions it pages, if any. */
export interface EventQuery {
  tenantId: string;
  conditions: SQL[];
  mention?: string;
  /** Events at or after this time (a Date, or the SQL of one: a time read to the microsecond). */
  from?: Date | SQL;
  /** Events before this time. */
  to?: Date;
  cursor?: string;
}

/**
 * A list query. Each single filter is served by an index led by (tenant_id, <filter>, occurred_at,
 * id), read backwards; a mention by event_mentions' key (tenant_id, agent_id, occurred_at,
 * event_id), read backwards and joined to events by their key.
 */
function eventQuery(tenantId: string, query: z.output<typeof listEventsSchema>): EventQuery {
  const conditions: SQL[] = [eq(events.tenantId, tenantId)];
  if (query.projectId) conditions.push(eq(events.projectId, query.projectId));
  if (query.sessionId) conditions.push(eq(events.sessionId, query.sessionId));
  if (query.authorId) conditions.push(eq(events.authorId, query.authorId));
  if (typeof query.type === 'string') conditions.push(eq(events.type, query.type));
  else if (query.type) conditions.push(inArray(events.type, query.type));
  return {
    tenantId,
    conditions,
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
    ...(query.mention ? { mention: query.mention } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  };
}

/** One page of events, newest first by (occurred_at, id). */
export async function pageOfEvents(
  tx: TenantScope | ServiceScope,
  query: EventQuery,
  limit: number,
): Promise<Page<Event>> {
  const order = query.mention ? byMention : byEvent;
  const conditions = [...query.conditions];
  if (query.cursor) conditions.push(before(query.cursor, order));
  // On the columns the page is read by, so that the range bounds its index scan.
  if (query.from) conditions.push(gte(order.time, query.from));
  if (query.to) conditions.push(lt(order.time, query.to));
  let rows: Event[];
  if (query.mention) {
    conditions.push(eq(eventMentions.tenantId, query.tenantId), eq(eventMentions.agentId, query.mention));
    const joined = await tx.db
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
      .where(and(...conditions))
      .orderBy(desc(order.time), desc(order.id))
      .limit(limit + 1);
    rows = joined.map((row) => row.event);
  } else {
    rows = await tx.db
      .select()
      .from(events)
      .where(and(...conditions))
      .orderBy(desc(order.time), desc(order.id))
      .limit(limit + 1);
  }
  return toPage(rows, limit, 'events', (row) => [row.occurredAt.toISOString(), row.id]);
}

/**
 * The tenant's timeline: append-only (no role the application uses may change or remove an event).
 * Who may write what is the database's rule (migration 7): system types only by its triggers, an
 * agent only as itself, into an open session of its own.
 */
export const eventsRepository = {
  /** Appends one event; its time is the transaction's. */
  async append(tx: TenantScope, input: AppendEventInput): Promise<Event> {
    const event = parseInput(appendEventSchema, input, 'event');
    const [row] = await insertOne.run(tx, rowOf(tx, event));
    return row!;
  },

  /** Appends up to 1,000 events in one INSERT: all of them or, on any refusal, none. In input order. */
  async appendBatch(tx: TenantScope, input: AppendEventBatchInput): Promise<Event[]> {
    const rows = parseInput(appendEventBatchSchema, input, 'event batch').map((event) => rowOf(tx, event));
    const document = rows.map(({ tenantId: _, mentions, ...row }) => ({
      ...row,
      // As an array literal, which the database casts in one step (uuids need no quoting).
      mentions: `{${mentions.join(',')}}`,
    }));
    const stored = await insertBatch.run(tx, { tenantId: tx.tenantId, batch: JSON.stringify(document) });
    // Identity values follow the document's order; RETURNING's order is not promised. Only what the
    // database decides comes back (id, time, transaction, and the project and author its trigger may fill in):
    // sending 1,000 payloads back and decoding them cost a sixth of the batch.
    stored.sort((a, b) => a.id - b.id);
    return rows.map((row, i) => ({ ...row, ...stored[i]! }));
  },

  async get(tx: TenantScope, id: number): Promise<Event> {
    const value = parseInput(eventId, id, 'event id');
    const [row] = await selectById.run(tx, { tenantId: tx.tenantId, id: value });
    if (!row) throw new NotFoundError('event', String(value));
    return row;
  },

  /** One page of the timeline, newest first by (occurred_at, id). */
  async list(tx: TenantScope, input: ListEventsInput = {}): Promise<Page<Event>> {
    const query = parseInput(listEventsSchema, input, 'event list');
    return pageOfEvents(tx, eventQuery(tx.tenantId, query), query.limit);
  },
};

/** Operators' view (`asService`): one tenant's timeline, as `events.list` pages it. */
export const eventAdminRepository = {
  async list(tx: ServiceScope, tenantId: string, input: ListEventsInput = {}): Promise<Page<Event>> {
    const tenant = parseId(tenantId, 'tenant');
    const query = parseInput(listEventsSchema, input, 'event list');
    return pageOfEvents(tx, eventQuery(tenant, query), query.limit);
  },
};
