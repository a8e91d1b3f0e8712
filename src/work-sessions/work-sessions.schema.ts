import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';

export const WORK_SESSION_STATUSES = ['started', 'logging', 'stopped'] as const;
export type WorkSessionStatus = (typeof WORK_SESSION_STATUSES)[number];

export const workSessions = pgTable(
  'work_sessions',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    agentId: uuid('agent_id').notNull(),
    projectId: uuid('project_id').notNull(),
    status: text('status', { enum: WORK_SESSION_STATUSES }).notNull().default('started'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    stoppedAt: timestamp('stopped_at', { withTimezone: true }),
    durationSeconds: integer('duration_seconds'),
    tasksWorkedOn: uuid('tasks_worked_on').array().notNull().default(sql`'{}'`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { agent: [table.agentId, agents], project: [table.projectId, projects] }),
    uniqueIndex('work_sessions_open_key').on(table.tenantId, table.agentId).where(sql`status <> 'stopped'`),
    index('work_sessions_agent_idx').on(table.tenantId, table.agentId, table.startedAt),
    index('work_sessions_project_idx').on(table.tenantId, table.projectId, table.startedAt),
    check('work_sessions_status_check', sql`${table.status} IN (${sqlValues(WORK_SESSION_STATUSES)})`),
    check('work_sessions_duration_seconds_check', sql`${table.durationSeconds} >= 0`),
    check('work_sessions_tasks_worked_on_check', sql`cardinality(${table.tasksWorkedOn}) <= 10000`),
    check('work_sessions_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check(
      'work_sessions_stopped',
      sql`(${table.status} = 'stopped') = (${table.stoppedAt} IS NOT NULL) AND (${table.stoppedAt} IS NULL) = (${table.durationSeconds} IS NULL)`,
    ),
  ],
);

export type WorkSession = typeof workSessions.$inferSelect;
