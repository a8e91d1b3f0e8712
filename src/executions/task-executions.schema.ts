import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  check,
  date,
  foreignKey,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import {
  primaryKeyName,
  scopedIdColumn,
  tenantForeignKeyName,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { workSessions } from '../work-sessions/work-sessions.schema.ts';

/** pending → running → success | failure | timeout, and pending → failure (migration 15's trigger). */
export const EXECUTION_STATUSES = ['pending', 'running', 'success', 'failure', 'timeout'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** The statuses a run ends in: a run in one of them is frozen. */
export const FINAL_EXECUTION_STATUSES = ['success', 'failure', 'timeout'] as const;
export type FinalExecutionStatus = (typeof FINAL_EXECUTION_STATUSES)[number];

/** The moves the database allows, from → to. */
export const EXECUTION_TRANSITIONS: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  pending: ['running', 'failure'],
  running: ['success', 'failure', 'timeout'],
  success: [],
  failure: [],
  timeout: [],
};

const FINAL = sqlValues(FINAL_EXECUTION_STATUSES);

/** One agent run on a task: tokens by kind and an exact cost (numeric(14,6) US dollars, decimal text here). */
export const taskExecutions = pgTable(
  'task_executions',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    /** The task's project, copied by the database. */
    projectId: uuid('project_id').notNull(),
    sessionId: uuid('session_id'),
    status: text('status', { enum: EXECUTION_STATUSES }).notNull().default('pending'),
    input: jsonb('input').$type<Record<string, unknown>>().notNull().default({}),
    output: jsonb('output').$type<Record<string, unknown>>(),
    error: jsonb('error').$type<Record<string, unknown>>(),
    modelProvider: text('model_provider'),
    modelName: text('model_name'),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
    /** US dollars as exact decimal text ('0.012500'): never a float. */
    costUsd: numeric('cost_usd', { precision: 14, scale: 6 }).notNull().default('0'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks], project: [table.projectId, projects] }),
    foreignKey({
      name: tenantForeignKeyName('task_executions', 'agent'),
      columns: [table.tenantId, table.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }),
    foreignKey({
      name: tenantForeignKeyName('task_executions', 'session'),
      columns: [table.tenantId, table.sessionId],
      foreignColumns: [workSessions.tenantId, workSessions.id],
    }),
    index('task_executions_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    index('task_executions_agent_idx').on(table.tenantId, table.agentId, table.createdAt, table.id),
    index('task_executions_project_idx').on(table.tenantId, table.projectId, table.createdAt),
    index('task_executions_session_idx')
      .on(table.tenantId, table.sessionId)
      .where(sql`session_id IS NOT NULL`),
    check('task_executions_status_check', sql`${table.status} IN (${sqlValues(EXECUTION_STATUSES)})`),
    check('task_executions_input_check', sql`jsonb_typeof(${table.input}) = 'object'`),
    check('task_executions_output_check', sql`jsonb_typeof(${table.output}) = 'object'`),
    check('task_executions_error_check', sql`jsonb_typeof(${table.error}) = 'object'`),
    check('task_executions_model_provider_check', sql`char_length(${table.modelProvider}) BETWEEN 1 AND 100`),
    check('task_executions_model_name_check', sql`char_length(${table.modelName}) BETWEEN 1 AND 200`),
    check('task_executions_input_tokens_check', sql`${table.inputTokens} >= 0`),
    check('task_executions_output_tokens_check', sql`${table.outputTokens} >= 0`),
    check('task_executions_cached_tokens_check', sql`${table.cachedTokens} >= 0`),
    check('task_executions_reasoning_tokens_check', sql`${table.reasoningTokens} >= 0`),
    check('task_executions_cost_usd_check', sql`${table.costUsd} >= 0`),
    check('task_executions_duration_ms_check', sql`${table.durationMs} >= 0`),
    check(
      'task_executions_times',
      sql`(${table.status} IN (${FINAL})) = (${table.finishedAt} IS NOT NULL) AND (${table.status} <> 'pending' OR ${table.startedAt} IS NULL) AND (${table.status} <> 'running' OR ${table.startedAt} IS NOT NULL) AND (${table.durationMs} IS NULL OR (${table.startedAt} IS NOT NULL AND ${table.finishedAt} IS NOT NULL))`,
    ),
    check('task_executions_error', sql`${table.error} IS NULL OR ${table.status} IN ('failure', 'timeout')`),
  ],
);

export type TaskExecution = typeof taskExecutions.$inferSelect;

/** The counters every totals table keeps (written only by the database). */
const counterColumns = () => ({
  executions: bigint('executions', { mode: 'number' }).notNull().default(0),
  succeeded: bigint('succeeded', { mode: 'number' }).notNull().default(0),
  failed: bigint('failed', { mode: 'number' }).notNull().default(0),
  timedOut: bigint('timed_out', { mode: 'number' }).notNull().default(0),
  inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
  outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
  cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
  reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
  /** Exact decimal text. */
  costUsd: numeric('cost_usd', { precision: 20, scale: 6 }).notNull().default('0'),
  durationMs: bigint('duration_ms', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

type CounterTable = { [K in keyof ReturnType<typeof counterColumns>]: AnyPgColumn };

/**
 * The CHECK of a totals table: no counter below zero. (None ties outcomes to runs: INSERT … ON
 * CONFLICT checks the row it would insert, a delta, before adding it to the existing one.)
 */
function counterChecks(name: string, table: CounterTable) {
  return [
    check(
      `${name}_nonnegative`,
      sql`${table.executions} >= 0 AND ${table.succeeded} >= 0 AND ${table.failed} >= 0 AND ${table.timedOut} >= 0 AND ${table.inputTokens} >= 0 AND ${table.outputTokens} >= 0 AND ${table.cachedTokens} >= 0 AND ${table.reasoningTokens} >= 0 AND ${table.costUsd} >= 0 AND ${table.durationMs} >= 0`,
    ),
  ];
}

/** A task's execution totals. */
export const taskExecutionTotals = pgTable(
  'task_execution_totals',
  {
    tenantId: tenantIdColumn(),
    taskId: uuid('task_id').notNull(),
    ...counterColumns(),
  },
  (table) => [
    primaryKey({ name: primaryKeyName('task_execution_totals'), columns: [table.tenantId, table.taskId] }),
    foreignKey({
      name: tenantForeignKeyName('task_execution_totals', 'task'),
      columns: [table.tenantId, table.taskId],
      foreignColumns: [tasks.tenantId, tasks.id],
    }).onDelete('cascade'),
    ...counterChecks('task_execution_totals', table),
  ],
);

/** A tenant's lifetime execution totals. */
export const tenantExecutionTotals = pgTable(
  'tenant_execution_totals',
  {
    tenantId: tenantIdColumn()
      .references(() => tenants.id, { onDelete: 'cascade' })
      .primaryKey(),
    ...counterColumns(),
  },
  (table) => counterChecks('tenant_execution_totals', table),
);

/** The counters per UTC day, project, agent and model ('' for an unknown model): the cost report's source. */
export const executionCostDaily = pgTable(
  'execution_cost_daily',
  {
    tenantId: tenantIdColumn(),
    day: date('day', { mode: 'string' }).notNull(),
    projectId: uuid('project_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    modelProvider: text('model_provider').notNull().default(''),
    modelName: text('model_name').notNull().default(''),
    ...counterColumns(),
  },
  (table) => [
    primaryKey({
      name: primaryKeyName('execution_cost_daily'),
      columns: [
        table.tenantId,
        table.day,
        table.projectId,
        table.agentId,
        table.modelProvider,
        table.modelName,
      ],
    }),
    foreignKey({
      name: tenantForeignKeyName('execution_cost_daily', 'project'),
      columns: [table.tenantId, table.projectId],
      foreignColumns: [projects.tenantId, projects.id],
    }).onDelete('cascade'),
    foreignKey({
      name: tenantForeignKeyName('execution_cost_daily', 'agent'),
      columns: [table.tenantId, table.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    index('execution_cost_daily_project_idx').on(table.tenantId, table.projectId, table.day),
    index('execution_cost_daily_agent_idx').on(table.tenantId, table.agentId, table.day),
    ...counterChecks('execution_cost_daily', table),
  ],
);

export type TaskExecutionTotalsRow = typeof taskExecutionTotals.$inferSelect;
export type TenantExecutionTotalsRow = typeof tenantExecutionTotals.$inferSelect;
