import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { taskExecutions } from '../executions/task-executions.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { users } from '../tenancy/users.schema.ts';

/** What an agent's work produced (seed 000's artifact types, widened to what agents hand in). */
export const ARTIFACT_TYPES = [
  'code',
  'diff',
  'document',
  'design',
  'test_report',
  'config',
  'log',
  'other',
] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

/** none until an approval request covers the artifact; then its decision. Set only by the database. */
export const ARTIFACT_APPROVAL_STATUSES = ['none', 'pending', 'approved', 'rejected'] as const;
export type ArtifactApprovalStatus = (typeof ARTIFACT_APPROVAL_STATUSES)[number];

/** Largest content stored in the row, in UTF-8 bytes; larger work is stored elsewhere and named by path. */
export const ARTIFACT_CONTENT_MAX_BYTES = 1024 * 1024;

export const artifacts = pgTable(
  'artifacts',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    /** The execution (task_executions, migration 15) that produced it, if any. */
    executionId: uuid('execution_id'),
    type: text('type', { enum: ARTIFACT_TYPES }).notNull(),
    path: text('path').notNull(),
    content: text('content'),
    contentType: text('content_type').notNull().default('text/plain'),
    /** Bytes: counted by the database when the content is stored here, else as given. */
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    approvalStatus: text('approval_status', { enum: ARTIFACT_APPROVAL_STATUSES }).notNull().default('none'),
    createdByAgentId: uuid('created_by_agent_id'),
    createdByUserId: uuid('created_by_user_id').references(() => users.id),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks], execution: [table.executionId, taskExecutions] }),
    foreignKey({
      name: 'artifacts_agent_fk',
      columns: [table.tenantId, table.createdByAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }),
    index('artifacts_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    index('artifacts_execution_idx')
      .on(table.tenantId, table.executionId)
      .where(sql`execution_id IS NOT NULL`),
    index('artifacts_agent_idx')
      .on(table.tenantId, table.createdByAgentId)
      .where(sql`created_by_agent_id IS NOT NULL`),
    check('artifacts_type_check', sql`${table.type} IN (${sqlValues(ARTIFACT_TYPES)})`),
    check('artifacts_path_check', sql`char_length(${table.path}) BETWEEN 1 AND 1024`),
    check('artifacts_content_check', sql`octet_length(${table.content}) <= 1048576`),
    check(
      'artifacts_content_type_check',
      sql`${table.contentType} ~ '^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$' AND char_length(${table.contentType}) <= 255`,
    ),
    check('artifacts_size_bytes_check', sql`${table.sizeBytes} >= 0`),
    check('artifacts_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check(
      'artifacts_approval_status_check',
      sql`${table.approvalStatus} IN (${sqlValues(ARTIFACT_APPROVAL_STATUSES)})`,
    ),
    check(
      'artifacts_one_creator',
      sql`${table.createdByAgentId} IS NULL OR ${table.createdByUserId} IS NULL`,
    ),
  ],
);

export type Artifact = typeof artifacts.$inferSelect;
