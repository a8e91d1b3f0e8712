import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { primaryKeyName, tenantForeignKeyName, tenantIdColumn } from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { workSessions } from '../work-sessions/work-sessions.schema.ts';

/** The seventeen event types of seed 002. */
export const EVENT_TYPES = [
  'session_start',
  'session_log',
  'session_stop',
  'task_assigned',
  'task_completed',
  'task_blocked',
  'problem_report',
  'advice_given',
  'question_asked',
  'review_requested',
  'review_response',
  'github_pr_opened',
  'github_pr_merged',
  'github_issue_assigned',
  'kpi_updated',
  'trust_score_changed',
  'wiki_contribution',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The types only the database writes (its triggers): they have no author. */
export const SYSTEM_EVENT_TYPES = [
  'session_start',
  'session_stop',
  'kpi_updated',
  'trust_score_changed',
] as const;
/** The types that belong to a work session. */
const SESSION_EVENT_TYPES = ['session_start', 'session_log', 'session_stop'] as const;

/** A transaction id (xid8), as its decimal text: it may exceed 2^53. */
const transactionId = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * The immutable timeline. Keyed (tenant_id, occurred_at, id) like audit_logs, so that it can be
 * partitioned by time and distributed by tenant; read newest first by (occurred_at, id).
 */
export const events = pgTable(
  'events',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    type: text('type', { enum: EVENT_TYPES }).notNull(),
    projectId: uuid('project_id'),
    sessionId: uuid('session_id'),
    /** The agent that wrote the event; null for a system event. */
    authorId: uuid('author_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    mentions: uuid('mentions').array().notNull().default(sql`'{}'`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /**
     * The id of the transaction that wrote the event (the database's, migration 12): events written
     * together share it. The live timeline reads in (tx_id, id) order.
     */
    txId: transactionId('tx_id').notNull().default(sql`pg_current_xact_id()`),
  },
  (table) => [
    primaryKey({ name: primaryKeyName('events'), columns: [table.tenantId, table.occurredAt, table.id] }),
    foreignKey({
      name: tenantForeignKeyName('events', 'project'),
      columns: [table.tenantId, table.projectId],
      foreignColumns: [projects.tenantId, projects.id],
    }).onDelete('cascade'),
    foreignKey({
      name: tenantForeignKeyName('events', 'session'),
      columns: [table.tenantId, table.sessionId],
      foreignColumns: [workSessions.tenantId, workSessions.id],
    }).onDelete('cascade'),
    foreignKey({
      name: tenantForeignKeyName('events', 'author'),
      columns: [table.tenantId, table.authorId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    index('events_project_idx')
      .on(table.tenantId, table.projectId, table.occurredAt, table.id)
      .where(sql`project_id IS NOT NULL`),
    index('events_session_idx')
      .on(table.tenantId, table.sessionId, table.occurredAt, table.id)
      .where(sql`session_id IS NOT NULL`),
    index('events_author_idx')
      .on(table.tenantId, table.authorId, table.occurredAt, table.id)
      .where(sql`author_id IS NOT NULL`),
    index('events_type_idx').on(table.tenantId, table.type, table.occurredAt, table.id),
    index('events_id_idx').on(table.tenantId, table.id),
    index('events_tx_idx').on(table.tenantId, table.txId, table.id),
    check('events_type_check', sql`${table.type} IN (${sqlValues(EVENT_TYPES)})`),
    check('events_payload_check', sql`jsonb_typeof(${table.payload}) = 'object'`),
    check('events_mentions_check', sql`cardinality(${table.mentions}) <= 100`),
    check('events_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check(
      'events_system_author',
      sql`(${table.type} IN (${sqlValues(SYSTEM_EVENT_TYPES)})) = (${table.authorId} IS NULL)`,
    ),
    check(
      'events_session_required',
      sql`${table.type} NOT IN (${sqlValues(SESSION_EVENT_TYPES)}) OR ${table.sessionId} IS NOT NULL`,
    ),
  ],
);

export type Event = typeof events.$inferSelect;

/**
 * One row per (event, mentioned agent), written by the database from events.mentions (migration 7):
 * keyed for the newest-first page of one agent's mentions, which a GIN index cannot give in order.
 */
export const eventMentions = pgTable(
  'event_mentions',
  {
    tenantId: uuid('tenant_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({
      name: primaryKeyName('event_mentions'),
      columns: [table.tenantId, table.agentId, table.occurredAt, table.eventId],
    }),
    foreignKey({
      name: tenantForeignKeyName('event_mentions', 'event'),
      columns: [table.tenantId, table.occurredAt, table.eventId],
      foreignColumns: [events.tenantId, events.occurredAt, events.id],
    }).onDelete('cascade'),
    foreignKey({
      name: tenantForeignKeyName('event_mentions', 'agent'),
      columns: [table.tenantId, table.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    index('event_mentions_event_idx').on(table.tenantId, table.occurredAt, table.eventId),
  ],
);
