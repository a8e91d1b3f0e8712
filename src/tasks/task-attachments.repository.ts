import { and, asc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateTaskAttachmentInput,
  createTaskAttachmentSchema,
  type ListTaskAttachmentsInput,
  listTaskAttachmentsSchema,
} from './task-attachments.contract.ts';
import { type TaskAttachment, taskAttachments } from './task-attachments.schema.ts';

// Oldest first: (created_at, id) ascending.
const attachmentsKey = z.tuple([cursorTimestamp, uuidSchema]);
const live = isNull(taskAttachments.deletedAt);

/**
 * Files attached to tasks (their storage path, not their bytes). The uploader is the actor, set by
 * the database; an attachment never changes but for its soft delete; each new one is a feed entry.
 */
export const taskAttachmentsRepository = {
  /** Attaches a file to a task as the actor (NotFoundError when the task does not exist or is deleted). */
  async create(tx: TenantScope, taskId: string, input: CreateTaskAttachmentInput): Promise<TaskAttachment> {
    const task = parseId(taskId, 'task');
    const values = parseInput(createTaskAttachmentSchema, input, 'task attachment');
    const [row] = await tx.db
      .insert(taskAttachments)
      .values({ ...values, tenantId: tx.tenantId, taskId: task })
      .returning();
    return row!;
  },

  /** A live attachment. */
  async get(tx: TenantScope, id: string): Promise<TaskAttachment> {
    const attachmentId = parseId(id, 'task attachment');
    const [row] = await tx.db
      .select()
      .from(taskAttachments)
      .where(and(eq(taskAttachments.tenantId, tx.tenantId), eq(taskAttachments.id, attachmentId), live));
    if (!row) throw new NotFoundError('task attachment', attachmentId);
    return row;
  },

  /** One page of a task's attachments, oldest first by (created_at, id). */
  async list(
    tx: TenantScope,
    taskId: string,
    input: ListTaskAttachmentsInput = {},
  ): Promise<Page<TaskAttachment>> {
    const task = parseId(taskId, 'task');
    const query = parseInput(listTaskAttachmentsSchema, input, 'task attachment list');
    const conditions: SQL[] = [eq(taskAttachments.tenantId, tx.tenantId), eq(taskAttachments.taskId, task)];
    if (!query.includeDeleted) conditions.push(live);
    if (query.cursor) {
      const [at, id] = decodeCursor('task attachments', query.cursor, attachmentsKey);
      const exact = exactTimestamp(taskAttachments.createdAt, taskAttachments.id, at, id);
      conditions.push(sql`(${taskAttachments.createdAt}, ${taskAttachments.id}) > (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(taskAttachments)
      .where(and(...conditions))
      .orderBy(asc(taskAttachments.createdAt), asc(taskAttachments.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'task attachments', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /** Soft delete, by the uploader or an owner or admin (ForbiddenError `not_author` otherwise). */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const attachmentId = parseId(id, 'task attachment');
    const [row] = await tx.db
      .update(taskAttachments)
      .set({ deletedAt: sql`now()` })
      .where(and(eq(taskAttachments.tenantId, tx.tenantId), eq(taskAttachments.id, attachmentId), live))
      .returning({ id: taskAttachments.id });
    if (!row) throw new NotFoundError('task attachment', attachmentId);
  },
};
