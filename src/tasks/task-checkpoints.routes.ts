import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateTaskCheckpointInput,
  createTaskCheckpointSchema,
  type ListTaskCheckpointsInput,
  listTaskCheckpointsSchema,
  type RestoreTaskCheckpointInput,
  restoreTaskCheckpointSchema,
} from './task-checkpoints.contract.ts';
import { taskCheckpoints } from './task-checkpoints.schema.ts';

const checkpoint = rowSchema(taskCheckpoints);
const byTask = idParams('taskId');
const byCheckpoint = idParams('checkpointId');
const tag = 'tasks';

/** A task's state checkpoints over HTTP: append-only history; a restore appends. */
export const taskCheckpointRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/checkpoints',
    operationId: 'taskCheckpoints.create',
    covers: ['taskCheckpoints.create'],
    tag,
    summary: 'Save a checkpoint of a task’s state; the database numbers it and links it to the head',
    params: byTask,
    body: createTaskCheckpointSchema,
    status: 201,
    response: checkpoint,
    handler: ({ tx, params, body }) =>
      tx.taskCheckpoints.create(params.taskId!, body as CreateTaskCheckpointInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/checkpoints',
    operationId: 'taskCheckpoints.list',
    singleStatement: true,
    covers: ['taskCheckpoints.list'],
    tag,
    summary: 'List a task’s checkpoints in sequence order (its history)',
    params: byTask,
    query: listTaskCheckpointsSchema,
    response: pageSchema(checkpoint),
    handler: ({ tx, params, query }) =>
      tx.taskCheckpoints.list(params.taskId!, query as ListTaskCheckpointsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/checkpoints/latest',
    operationId: 'taskCheckpoints.latest',
    singleStatement: true,
    covers: ['taskCheckpoints.latest'],
    tag,
    summary: 'Read a task’s newest checkpoint (404 when it has none)',
    params: byTask,
    response: checkpoint,
    handler: ({ tx, params }) => tx.taskCheckpoints.latest(params.taskId!),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-checkpoints/:checkpointId',
    operationId: 'taskCheckpoints.get',
    singleStatement: true,
    covers: ['taskCheckpoints.get'],
    tag,
    summary: 'Read a checkpoint',
    params: byCheckpoint,
    response: checkpoint,
    handler: ({ tx, params }) => tx.taskCheckpoints.get(params.checkpointId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/checkpoints/:checkpointId/restore',
    operationId: 'taskCheckpoints.restore',
    covers: ['taskCheckpoints.restore'],
    tag,
    summary: 'Restore a checkpoint of the task: a new checkpoint with its state, after the current head',
    params: idParams('taskId', 'checkpointId'),
    body: restoreTaskCheckpointSchema,
    status: 201,
    response: checkpoint,
    handler: ({ tx, params, body }) =>
      tx.taskCheckpoints.restore(
        params.taskId!,
        params.checkpointId!,
        (body ?? {}) as RestoreTaskCheckpointInput,
      ),
  }),
];
