import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
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
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { users } from '../tenancy/users.schema.ts';
import { tasks } from './tasks.schema.ts';

/** Longest comment body, in characters (GitHub's limit). */
export const TASK_COMMENT_BODY_MAX = 65536;

/**
 * Comments on a task, by a user or an agent (exactly one; the database sets it from the actor).
 * The body is edited by its author only (the database stamps edited_at); deleted softly.
 */
export const taskComments = pgTable(
  'task_comments',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    authorAgentId: uuid('author_agent_id'),
    authorUserId: uuid('author_user_id'),
    body: text('body').notNull(),
    isPublic: boolean('is_public').notNull().default(true),
    isAiGenerated: boolean('is_ai_generated').notNull().default(false),
    aiMetadata: jsonb('ai_metadata').$type<Record<string, unknown>>(),
    githubCommentId: bigint('github_comment_id', { mode: 'number' }),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks], agent: [table.authorAgentId, agents] }),
    foreignKey({
      name: 'task_comments_user_fk',
      columns: [table.authorUserId],
      foreignColumns: [users.id],
    }),
    index('task_comments_task_idx').on(table.tenantId, table.taskId, table.createdAt, table.id),
    uniqueIndex('task_comments_github_comment_live_key')
      .on(table.tenantId, table.githubCommentId)
      .where(sql`github_comment_id IS NOT NULL AND deleted_at IS NULL`),
    index('task_comments_agent_idx')
      .on(table.tenantId, table.authorAgentId)
      .where(sql`author_agent_id IS NOT NULL`),
    index('task_comments_member_idx')
      .on(table.tenantId, table.authorUserId)
      .where(sql`author_user_id IS NOT NULL`),
    check('task_comments_body_check', sql`char_length(${table.body}) BETWEEN 1 AND 65536`),
    check('task_comments_ai_metadata_check', sql`jsonb_typeof(${table.aiMetadata}) = 'object'`),
    check('task_comments_github_comment_id_check', sql`${table.githubCommentId} > 0`),
    check('task_comments_one_author', sql`num_nonnulls(${table.authorAgentId}, ${table.authorUserId}) = 1`),
    check('task_comments_ai_metadata', sql`${table.isAiGenerated} OR ${table.aiMetadata} IS NULL`),
  ],
);

export type TaskComment = typeof taskComments.$inferSelect;
