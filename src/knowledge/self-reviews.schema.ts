import { sql } from 'drizzle-orm';
import {
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { AGENT_TYPES, agents } from '../agents/agents.schema.ts';
import { taskExecutions } from '../executions/task-executions.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys } from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

/** What the agent decided after reviewing its own work. */
export const SELF_REVIEW_DECISIONS = ['accept', 'iterate', 'escalate'] as const;
export type SelfReviewDecision = (typeof SELF_REVIEW_DECISIONS)[number];

export const selfReviews = pgTable(
  'self_reviews',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    /** The task execution reviewed (its foreign key comes with task_executions). */
    executionId: uuid('execution_id'),
    iteration: integer('iteration').notNull(),
    agentType: text('agent_type', { enum: AGENT_TYPES }).notNull(),
    agentId: uuid('agent_id'),
    /** Scores from 0 to 1. */
    qualityScore: doublePrecision('quality_score').notNull(),
    completenessScore: doublePrecision('completeness_score').notNull(),
    correctnessScore: doublePrecision('correctness_score').notNull(),
    overallScore: doublePrecision('overall_score').notNull(),
    gaps: jsonb('gaps').$type<unknown[]>().notNull().default([]),
    requirements: jsonb('requirements').$type<unknown[]>().notNull().default([]),
    decision: text('decision', { enum: SELF_REVIEW_DECISIONS }).notNull(),
    reasoning: text('reasoning'),
    durationMs: integer('duration_ms'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    ...tenantKeys(table, {
      task: [table.taskId, tasks],
      agent: [table.agentId, agents],
      execution: [table.executionId, taskExecutions],
    }),
    uniqueIndex('self_reviews_execution_iteration_key')
      .on(table.tenantId, table.executionId, table.iteration)
      .where(sql`execution_id IS NOT NULL`),
    uniqueIndex('self_reviews_task_iteration_key')
      .on(table.tenantId, table.taskId, table.iteration)
      .where(sql`execution_id IS NULL`),
    index('self_reviews_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    index('self_reviews_trend_idx').on(table.tenantId, table.agentType, table.createdAt),
    index('self_reviews_agent_idx').on(table.tenantId, table.agentId).where(sql`agent_id IS NOT NULL`),
    check('self_reviews_iteration_check', sql`${table.iteration} BETWEEN 1 AND 1000`),
    check('self_reviews_agent_type_check', sql`${table.agentType} IN (${sqlValues(AGENT_TYPES)})`),
    check('self_reviews_quality_score_check', sql`${table.qualityScore} BETWEEN 0 AND 1`),
    check('self_reviews_completeness_score_check', sql`${table.completenessScore} BETWEEN 0 AND 1`),
    check('self_reviews_correctness_score_check', sql`${table.correctnessScore} BETWEEN 0 AND 1`),
    check('self_reviews_overall_score_check', sql`${table.overallScore} BETWEEN 0 AND 1`),
    check(
      'self_reviews_gaps_check',
      sql`jsonb_typeof(${table.gaps}) = 'array' AND jsonb_array_length(${table.gaps}) <= 200`,
    ),
    check(
      'self_reviews_requirements_check',
      sql`jsonb_typeof(${table.requirements}) = 'array' AND jsonb_array_length(${table.requirements}) <= 200`,
    ),
    check('self_reviews_decision_check', sql`${table.decision} IN (${sqlValues(SELF_REVIEW_DECISIONS)})`),
    check('self_reviews_reasoning_check', sql`char_length(${table.reasoning}) <= 20000`),
    check('self_reviews_duration_ms_check', sql`${table.durationMs} >= 0`),
  ],
);

export type SelfReview = typeof selfReviews.$inferSelect;
