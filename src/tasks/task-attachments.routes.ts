import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateTaskAttachmentInput,
  createTaskAttachmentSchema,
  type ListTaskAttachmentsInput,
  listTaskAttachmentsSchema,
} from './task-attachments.contract.ts';
import { taskAttachments } from './task-attachments.schema.ts';

const attachment = rowSchema(taskAttachments);
const byTask = idParams('taskId');
const byAttachment = idParams('attachmentId');
const tag = 'tasks';

/** A task's attachments over HTTP: the file's storage path and facts, uploaded as the caller. */
export const taskAttachmentRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/attachments',
    operationId: 'taskAttachments.create',
    covers: ['taskAttachments.create'],
    tag,
    summary: 'Attach a file (its storage path, size, type, checksum) to a task as the caller',
    params: byTask,
    body: createTaskAttachmentSchema,
    status: 201,
    response: attachment,
    handler: ({ tx, params, body }) =>
      tx.taskAttachments.create(params.taskId!, body as CreateTaskAttachmentInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/attachments',
    operationId: 'taskAttachments.list',
    singleStatement: true,
    covers: ['taskAttachments.list'],
    tag,
    summary: 'List a task’s attachments, oldest first (deleted ones with includeDeleted)',
    params: byTask,
    query: listTaskAttachmentsSchema,
    response: pageSchema(attachment),
    handler: ({ tx, params, query }) =>
      tx.taskAttachments.list(params.taskId!, query as ListTaskAttachmentsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-attachments/:attachmentId',
    operationId: 'taskAttachments.get',
    singleStatement: true,
    covers: ['taskAttachments.get'],
    tag,
    summary: 'Read an attachment',
    params: byAttachment,
    response: attachment,
    handler: ({ tx, params }) => tx.taskAttachments.get(params.attachmentId!),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/task-attachments/:attachmentId',
    operationId: 'taskAttachments.delete',
    covers: ['taskAttachments.delete'],
    tag,
    summary: 'Soft-delete an attachment (its uploader, an owner or an admin)',
    params: byAttachment,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.taskAttachments.delete(params.attachmentId!);
    },
  }),
];
