import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema } from '../shared/validation.ts';
import { TASK_COMMENT_BODY_MAX } from './task-comments.schema.ts';

const bodySchema = z.string().min(1).max(TASK_COMMENT_BODY_MAX);
/** A GitHub comment id: a positive integer JSON can carry exactly. */
const githubCommentIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Input of `taskComments.create(taskId, input)`. The author is the unit's actor, set by the
 * database; `aiMetadata` (model, prompt, confidence…) only with `isAiGenerated`.
 */
export const createTaskCommentSchema = z
  .strictObject({
    body: bodySchema,
    /** False keeps the comment off the public activity feed. */
    isPublic: z.boolean().optional(),
    isAiGenerated: z.boolean().optional(),
    aiMetadata: jsonObjectSchema.optional(),
    githubCommentId: githubCommentIdSchema.optional(),
  })
  .refine((input) => input.aiMetadata === undefined || input.isAiGenerated === true, {
    path: ['aiMetadata'],
    message: 'only an AI-generated comment (isAiGenerated: true) has AI metadata',
  });
export type CreateTaskCommentInput = z.input<typeof createTaskCommentSchema>;

/**
 * Input of `taskComments.update`: a new body (its author only; the database stamps `editedAt`),
 * and/or the GitHub comment it was synced to (set once).
 */
export const updateTaskCommentSchema = z
  .strictObject({ body: bodySchema.optional(), githubCommentId: githubCommentIdSchema.optional() })
  .refine((input) => input.body !== undefined || input.githubCommentId !== undefined, {
    message: 'name a body or a githubCommentId',
  });
export type UpdateTaskCommentInput = z.input<typeof updateTaskCommentSchema>;

/** Input of `taskComments.list(taskId, input)`: oldest first; deleted comments only when asked. */
export const listTaskCommentsSchema = z.strictObject({
  includeDeleted: z.boolean().default(false),
  ...pageFields,
});
export type ListTaskCommentsInput = z.input<typeof listTaskCommentsSchema>;
