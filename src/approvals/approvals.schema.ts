import { sql } from 'drizzle-orm';
import {
  check,
  foreignKey,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { users } from '../tenancy/users.schema.ts';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A decision: what a human may set a pending approval to. */
export const APPROVAL_DECISIONS = ['approved', 'rejected'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** Where an approval takes the task: completed, or back to in_progress (work goes on). */
export const APPROVAL_ON_APPROVE = ['complete', 'continue'] as const;
export type ApprovalOnApprove = (typeof APPROVAL_ON_APPROVE)[number];

/** Membership roles whose humans decide approvals (migration 16's agentflow.decide_approval). */
export const APPROVER_ROLES = ['owner', 'admin', 'manager'] as const;

export const approvals = pgTable(
  'approvals',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull().default('pending'),
    title: text('title').notNull(),
    description: text('description'),
    artifactIds: uuid('artifact_ids').array().notNull().default(sql`'{}'`),
    /** What the agent needs to resume after a restart. */
    resumeState: jsonb('resume_state').$type<Record<string, unknown>>().notNull().default({}),
    onApprove: text('on_approve', { enum: APPROVAL_ON_APPROVE }).notNull().default('complete'),
    requestedByAgentId: uuid('requested_by_agent_id'),
    requestedByUserId: uuid('requested_by_user_id').references(() => users.id),
    reason: text('reason'),
    decidedBy: uuid('decided_by').references(() => users.id),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks] }),
    foreignKey({
      name: 'approvals_agent_fk',
      columns: [table.tenantId, table.requestedByAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }),
    uniqueIndex('approvals_pending_key').on(table.tenantId, table.taskId).where(sql`status = 'pending'`),
    index('approvals_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    index('approvals_inbox_idx').on(table.tenantId, table.createdAt, table.id).where(sql`status = 'pending'`),
    check('approvals_status_check', sql`${table.status} IN (${sqlValues(APPROVAL_STATUSES)})`),
    check('approvals_title_check', sql`char_length(${table.title}) BETWEEN 1 AND 500`),
    check('approvals_description_check', sql`char_length(${table.description}) <= 50000`),
    check('approvals_artifact_ids_check', sql`cardinality(${table.artifactIds}) <= 100`),
    check('approvals_resume_state_check', sql`jsonb_typeof(${table.resumeState}) = 'object'`),
    check('approvals_on_approve_check', sql`${table.onApprove} IN (${sqlValues(APPROVAL_ON_APPROVE)})`),
    check('approvals_reason_check', sql`char_length(${table.reason}) BETWEEN 1 AND 5000`),
    check(
      'approvals_one_requester',
      sql`${table.requestedByAgentId} IS NULL OR ${table.requestedByUserId} IS NULL`,
    ),
    check(
      'approvals_decided',
      sql`(${table.status} = 'pending') = (${table.decidedAt} IS NULL) AND (${table.decidedAt} IS NULL) = (${table.decidedBy} IS NULL)`,
    ),
    check('approvals_rejection_reason', sql`${table.status} <> 'rejected' OR ${table.reason} IS NOT NULL`),
  ],
);

export type Approval = typeof approvals.$inferSelect;
