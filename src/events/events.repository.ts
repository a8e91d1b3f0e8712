import { and, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
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
import { type Event, events } from './events.schema.ts';

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
const insertBatch = compileStatement<'tenantId' | 'batch', Event>(columns, ['tenantId', 'batch'], (db, p) => {
  const statement =
    db.execute(sql`INSERT INTO ${events} (tenant_id, type, project_id, session_id, author_id, payload, mentions, metadata)
    SELECT ${p.tenantId}::uuid, x.e->>'type', (x.e->>'projectId')::uuid, (x.e->>'sessionId')::uuid,
           (x.e->>'authorId')::uuid, x.e->'payload',
           ARRAY(SELECT jsonb_array_elements_text(x.e->'mentions'))::uuid[], x.e->'metadata'
      FROM jsonb_array_elements((${p.batch}::text)::jsonb) WITH ORDINALITY AS x(e, n)
     ORDER BY x.n
    RETURNING ${sql.join(
      Object.values(columns).map((column) => sql.identifier(column.name)),
      sql`, `,
    )}`);
  return Object.assign(statement as unknown as PromiseLike<Event[]>, { toSQL: () => statement.getQuery() });
});
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
function before(cursor: string): SQL {
  const [at, id] = decodeCursor('events', cursor, eventsKey);
  const exact = exactTimestamp(events.occurredAt, events.id, at, id);
  return sql`(${events.occurredAt}, ${events.id}) < (${exact}, ${id})`;
}

/**
 * The conditions of a list query. Each single filter is served by an index led by
 * (tenant_id, <filter>, occurred_at, id), read backwards; the mention filter by the GIN index.
 */
function listConditions(tenantId: string, query: z.output<typeof listEventsSchema>): SQL[] {
  const conditions: SQL[] = [eq(events.tenantId, tenantId)];
  if (query.projectId) conditions.push(eq(events.projectId, query.projectId));
  if (query.sessionId) conditions.push(eq(events.sessionId, query.sessionId));
  if (query.authorId) conditions.push(eq(events.authorId, query.authorId));
  if (typeof query.type === 'string') conditions.push(eq(events.type, query.type));
  else if (query.type) conditions.push(inArray(events.type, query.type));
  if (query.mention) conditions.push(mentioning(query.mention));
  if (query.from) conditions.push(gte(events.occurredAt, query.from));
  if (query.to) conditions.push(lt(events.occurredAt, query.to));
  if (query.cursor) conditions.push(before(query.cursor));
  return conditions;
}

/** Events whose mentions hold `agentId`: `@>` is what the GIN index on mentions serves. */
export function mentioning(agentId: string): SQL {
  return sql`${events.mentions} @> ARRAY[${agentId}]::uuid[]`;
}

/** One page of events matching `conditions`, newest first. */
export async function pageOfEvents(
  tx: TenantScope | ServiceScope,
  conditions: SQL[],
  limit: number,
): Promise<Page<Event>> {
  const rows = await tx.db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.occurredAt), desc(events.id))
    .limit(limit + 1);
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
    const batch = parseInput(appendEventBatchSchema, input, 'event batch');
    const rows = await insertBatch.run(tx, {
      tenantId: tx.tenantId,
      batch: JSON.stringify(
        batch.map((event) => {
          const { tenantId: _, ...row } = rowOf(tx, event);
          return row;
        }),
      ),
    });
    // Identity values follow the VALUES order; RETURNING's order is not promised.
    return rows.sort((a, b) => a.id - b.id);
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
    return pageOfEvents(tx, listConditions(tx.tenantId, query), query.limit);
  },
};

/** Operators' view (`asService`): one tenant's timeline, as `events.list` pages it. */
export const eventAdminRepository = {
  async list(tx: ServiceScope, tenantId: string, input: ListEventsInput = {}): Promise<Page<Event>> {
    const tenant = parseId(tenantId, 'tenant');
    const query = parseInput(listEventsSchema, input, 'event list');
    return pageOfEvents(tx, listConditions(tenant, query), query.limit);
  },
};
