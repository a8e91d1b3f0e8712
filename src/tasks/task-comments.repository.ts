import { and, asc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateTaskCommentInput,
  createTaskCommentSchema,
  type ListTaskCommentsInput,
  listTaskCommentsSchema,
  type UpdateTaskCommentInput,
  updateTaskCommentSchema,
} from './task-comments.contract.ts';
import { type TaskComment, taskComments } from './task-comments.schema.ts';

// Oldest first: (created_at, id) ascending.
const commentsKey = z.tuple([cursorTimestamp, uuidSchema]);
const live = isNull(taskComments.deletedAt);

/**
 * Comments on tasks. The database keeps the rules (migration 17): the author is the actor, only the
 * author edits the body, a deleted comment is frozen; each new comment is an activity feed entry,
 * public unless the comment is not.
 */
export const taskCommentsRepository = {
  /** Comments on a task as the actor (NotFoundError when the task does not exist or is deleted). */
  async create(tx: TenantScope, taskId: string, input: CreateTaskCommentInput): Promise<TaskComment> {
    const task = parseId(taskId, 'task');
    const values = parseInput(createTaskCommentSchema, input, 'task comment');
    const [row] = await tx.db
      .insert(taskComments)
      .values({ ...values, tenantId: tx.tenantId, taskId: task })
      .returning();
    return row!;
  },

  /** A live comment. */
  async get(tx: TenantScope, id: string): Promise<TaskComment> {
    const commentId = parseId(id, 'task comment');
    const [row] = await tx.db
      .select()
      .from(taskComments)
      .where(and(eq(taskComments.tenantId, tx.tenantId), eq(taskComments.id, commentId), live));
    if (!row) throw new NotFoundError('task comment', commentId);
    return row;
  },

  /** One page of a task's comments, oldest first by (created_at, id). */
  async list(tx: TenantScope, taskId: string, input: ListTaskCommentsInput = {}): Promise<Page<TaskComment>> {
    const task = parseId(taskId, 'task');
    const query = parseInput(listTaskCommentsSchema, input, 'task comment list');
    const conditions: SQL[] = [eq(taskComments.tenantId, tx.tenantId), eq(taskComments.taskId, task)];
    if (!query.includeDeleted) conditions.push(live);
    if (query.cursor) {
      const [at, id] = decodeCursor('task comments', query.cursor, commentsKey);
      const exact = exactTimestamp(taskComments.createdAt, taskComments.id, at, id);
      conditions.push(sql`(${taskComments.createdAt}, ${taskComments.id}) > (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(taskComments)
      .where(and(...conditions))
      .orderBy(asc(taskComments.createdAt), asc(taskComments.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'task comments', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /**
   * Edits a comment's body (its author only: ForbiddenError `not_author`; the database stamps
   * `editedAt`) or records the GitHub comment it was synced to (once).
   */
  async update(tx: TenantScope, id: string, patch: UpdateTaskCommentInput): Promise<TaskComment> {
    const commentId = parseId(id, 'task comment');
    const values = parseInput(updateTaskCommentSchema, patch, 'task comment update');
    const [row] = await tx.db
      .update(taskComments)
      .set(values)
      .where(and(eq(taskComments.tenantId, tx.tenantId), eq(taskComments.id, commentId), live))
      .returning();
    if (!row) throw new NotFoundError('task comment', commentId);
    return row;
  },

  /** Soft delete, by the author or an owner or admin (ForbiddenError `not_author` otherwise). */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const commentId = parseId(id, 'task comment');
    const [row] = await tx.db
      .update(taskComments)
      .set({ deletedAt: sql`now()` })
      .where(and(eq(taskComments.tenantId, tx.tenantId), eq(taskComments.id, commentId), live))
      .returning({ id: taskComments.id });
    if (!row) throw new NotFoundError('task comment', commentId);
  },
};
