import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { AGENT_TYPES, agents } from '../agents/agents.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { memberships } from '../tenancy/memberships.schema.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

/** The canonical status set (DESIGN.md "One vocabulary for task status"). */
export const TASK_STATUSES = [
  'draft',
  'backlog',
  'assigned',
  'in_progress',
  'blocked',
  'in_review',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The steps of `in_progress` (seed 001's analyzing … completing). */
export const TASK_PHASES = ['analyzing', 'orchestrating', 'agent_working', 'completing'] as const;
export type TaskPhase = (typeof TASK_PHASES)[number];

/** P0–P3 = critical, high, medium, low. */
export const TASK_PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

export const TASK_TYPES = ['feature', 'bug', 'refactor', 'docs', 'config', 'test', 'chore', 'task'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/**
 * The moves the database allows (migration 13's guard_task), from → to. completed and cancelled
 * are final; leaving failed for anything but cancelled is a retry and counts against max_retries.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  draft: ['backlog', 'cancelled'],
  backlog: ['draft', 'assigned', 'in_progress', 'blocked', 'cancelled'],
  assigned: ['backlog', 'in_progress', 'blocked', 'cancelled'],
  in_progress: ['backlog', 'assigned', 'blocked', 'in_review', 'completed', 'failed', 'cancelled'],
  blocked: ['backlog', 'assigned', 'in_progress', 'failed', 'cancelled'],
  in_review: ['in_progress', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: ['backlog', 'assigned', 'in_progress', 'cancelled'],
  cancelled: [],
};

export const tasks = pgTable(
  'tasks',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    projectId: uuid('project_id').notNull(),
    title: text('title').notNull(),
    prompt: text('prompt'),
    description: text('description'),
    type: text('type', { enum: TASK_TYPES }).notNull().default('feature'),
    status: text('status', { enum: TASK_STATUSES }).notNull().default('backlog'),
    phase: text('phase', { enum: TASK_PHASES }),
    priority: text('priority', { enum: TASK_PRIORITIES }).notNull().default('P2'),
    deadline: timestamp('deadline', { withTimezone: true }),
    successCriteria: jsonb('success_criteria').$type<string[]>().notNull().default([]),
    assigneeAgentId: uuid('assignee_agent_id'),
    assigneeUserId: uuid('assignee_user_id'),
    githubRepository: text('github_repository'),
    githubIssueId: bigint('github_issue_id', { mode: 'number' }),
    githubIssueNumber: integer('github_issue_number'),
    githubPrNumber: integer('github_pr_number'),
    analysis: jsonb('analysis').$type<Record<string, unknown>>(),
    agentQueue: text('agent_queue').array().notNull().default(sql`'{}'`),
    completedAgents: text('completed_agents').array().notNull().default(sql`'{}'`),
    retryCount: integer('retry_count').notNull().default(0),
    maxRetries: integer('max_retries').notNull().default(3),
    blockedReason: text('blocked_reason'),
    error: jsonb('error').$type<Record<string, unknown>>(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** Hours, as exact decimal text (numeric(8,2)). */
    estimateHours: numeric('estimate_hours', { precision: 8, scale: 2 }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table, { project: [table.projectId, projects] }),
    foreignKey({
      name: 'tasks_agent_fk',
      columns: [table.tenantId, table.assigneeAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }),
    foreignKey({
      name: 'tasks_member_fk',
      columns: [table.tenantId, table.assigneeUserId],
      foreignColumns: [memberships.tenantId, memberships.userId],
    }),
    uniqueIndex('tasks_github_issue_id_live_key')
      .on(table.tenantId, table.projectId, table.githubIssueId)
      .where(sql`github_issue_id IS NOT NULL AND deleted_at IS NULL`),
    uniqueIndex('tasks_github_issue_number_live_key')
      .on(table.tenantId, table.projectId, table.githubIssueNumber)
      .where(sql`github_issue_number IS NOT NULL AND deleted_at IS NULL`),
    uniqueIndex('tasks_github_pr_live_key')
      .on(table.tenantId, table.projectId, table.githubPrNumber)
      .where(sql`github_pr_number IS NOT NULL AND deleted_at IS NULL`),
    index('tasks_project_idx')
      .on(table.tenantId, table.projectId, table.createdAt, table.id)
      .where(sql`deleted_at IS NULL`),
    index('tasks_agent_idx')
      .on(table.tenantId, table.assigneeAgentId, table.status)
      .where(sql`assignee_agent_id IS NOT NULL`),
    // Migration 14 (the task graph and the work queue): the target of the dependency edges'
    // composite keys, and open, unstarted work in queue order (priority, deadline, age).
    uniqueIndex('tasks_project_id_key').on(table.tenantId, table.projectId, table.id),
    index('tasks_project_queue_idx')
      .on(table.tenantId, table.projectId, table.priority, table.deadline, table.createdAt, table.id)
      .where(sql`deleted_at IS NULL AND status = ANY (ARRAY['backlog', 'assigned'])`),
    index('tasks_queue_idx')
      .on(table.tenantId, table.priority, table.deadline, table.createdAt, table.id)
      .where(sql`deleted_at IS NULL AND status = ANY (ARRAY['backlog', 'assigned'])`),
    index('tasks_member_idx')
      .on(table.tenantId, table.assigneeUserId)
      .where(sql`assignee_user_id IS NOT NULL`),
    check('tasks_title_check', sql`char_length(${table.title}) BETWEEN 1 AND 500`),
    check('tasks_prompt_check', sql`char_length(${table.prompt}) <= 100000`),
    check('tasks_description_check', sql`char_length(${table.description}) <= 50000`),
    check('tasks_type_check', sql`${table.type} IN (${sqlValues(TASK_TYPES)})`),
    check('tasks_status_check', sql`${table.status} IN (${sqlValues(TASK_STATUSES)})`),
    check('tasks_phase_check', sql`${table.phase} IN (${sqlValues(TASK_PHASES)})`),
    check('tasks_priority_check', sql`${table.priority} IN (${sqlValues(TASK_PRIORITIES)})`),
    check(
      'tasks_success_criteria_check',
      sql`jsonb_typeof(${table.successCriteria}) = 'array' AND jsonb_array_length(${table.successCriteria}) <= 100`,
    ),
    check(
      'tasks_github_repository_check',
      sql`${table.githubRepository} ~ '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' AND char_length(${table.githubRepository}) <= 200`,
    ),
    check('tasks_github_issue_id_check', sql`${table.githubIssueId} > 0`),
    check('tasks_github_issue_number_check', sql`${table.githubIssueNumber} > 0`),
    check('tasks_github_pr_number_check', sql`${table.githubPrNumber} > 0`),
    check('tasks_analysis_check', sql`jsonb_typeof(${table.analysis}) = 'object'`),
    check('tasks_agent_queue_check', sql`cardinality(${table.agentQueue}) <= 50`),
    check('tasks_completed_agents_check', sql`cardinality(${table.completedAgents}) <= 50`),
    check('tasks_max_retries_check', sql`${table.maxRetries} BETWEEN 0 AND 100`),
    check('tasks_blocked_reason_check', sql`char_length(${table.blockedReason}) BETWEEN 1 AND 5000`),
    check('tasks_error_check', sql`jsonb_typeof(${table.error}) = 'object'`),
    check('tasks_result_check', sql`jsonb_typeof(${table.result}) = 'object'`),
    check('tasks_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check('tasks_estimate_hours_check', sql`${table.estimateHours} >= 0`),
    check('tasks_one_assignee', sql`${table.assigneeAgentId} IS NULL OR ${table.assigneeUserId} IS NULL`),
    check(
      'tasks_assigned_has_assignee',
      sql`${table.status} NOT IN ('assigned', 'in_progress') OR ${table.assigneeAgentId} IS NOT NULL OR ${table.assigneeUserId} IS NOT NULL`,
    ),
    check('tasks_phase_in_progress', sql`${table.phase} IS NULL OR ${table.status} = 'in_progress'`),
    check('tasks_blocked_reason', sql`(${table.status} = 'blocked') = (${table.blockedReason} IS NOT NULL)`),
    check('tasks_completed_at', sql`(${table.status} = 'completed') = (${table.completedAt} IS NOT NULL)`),
    check('tasks_retries', sql`${table.retryCount} BETWEEN 0 AND ${table.maxRetries}`),
    check(
      'tasks_github_issue',
      sql`(${table.githubIssueId} IS NULL) = (${table.githubIssueNumber} IS NULL) AND (${table.githubIssueNumber} IS NULL OR ${table.githubRepository} IS NOT NULL)`,
    ),
    check(
      'tasks_agent_types',
      sql`${table.agentQueue} <@ ARRAY[${sqlValues(AGENT_TYPES)}] AND ${table.completedAgents} <@ ARRAY[${sqlValues(AGENT_TYPES)}]`,
    ),
  ],
);

export type Task = typeof tasks.$inferSelect;
