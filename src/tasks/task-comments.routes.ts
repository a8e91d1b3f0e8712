import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateTaskCommentInput,
  createTaskCommentSchema,
  type ListTaskCommentsInput,
  listTaskCommentsSchema,
  type UpdateTaskCommentInput,
  updateTaskCommentSchema,
} from './task-comments.contract.ts';
import { taskComments } from './task-comments.schema.ts';

const comment = rowSchema(taskComments);
const byTask = idParams('taskId');
const byComment = idParams('commentId');
const tag = 'tasks';

/** A task's comments over HTTP: written as the caller, edited by their author, deleted softly. */
export const taskCommentRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/comments',
    operationId: 'taskComments.create',
    covers: ['taskComments.create'],
    tag,
    summary: 'Comment on a task as the caller (an activity feed entry, public unless the comment is not)',
    params: byTask,
    body: createTaskCommentSchema,
    status: 201,
    response: comment,
    handler: ({ tx, params, body }) => tx.taskComments.create(params.taskId!, body as CreateTaskCommentInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/comments',
    operationId: 'taskComments.list',
    singleStatement: true,
    covers: ['taskComments.list'],
    tag,
    summary: 'List a task’s comments, oldest first (deleted ones with includeDeleted)',
    params: byTask,
    query: listTaskCommentsSchema,
    response: pageSchema(comment),
    handler: ({ tx, params, query }) => tx.taskComments.list(params.taskId!, query as ListTaskCommentsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-comments/:commentId',
    operationId: 'taskComments.get',
    singleStatement: true,
    covers: ['taskComments.get'],
    tag,
    summary: 'Read a comment',
    params: byComment,
    response: comment,
    handler: ({ tx, params }) => tx.taskComments.get(params.commentId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/task-comments/:commentId',
    operationId: 'taskComments.update',
    covers: ['taskComments.update'],
    tag,
    summary: 'Edit a comment’s body (its author only: 403 `not_author`) or link its GitHub comment (once)',
    params: byComment,
    body: updateTaskCommentSchema,
    response: comment,
    handler: ({ tx, params, body }) =>
      tx.taskComments.update(params.commentId!, body as UpdateTaskCommentInput),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/task-comments/:commentId',
    operationId: 'taskComments.delete',
    covers: ['taskComments.delete'],
    tag,
    summary: 'Soft-delete a comment (its author, an owner or an admin)',
    params: byComment,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.taskComments.delete(params.commentId!);
    },
  }),
];
