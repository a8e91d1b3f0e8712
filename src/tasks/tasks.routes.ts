import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type AssignTaskInput,
  assignTaskSchema,
  type CreateTaskInput,
  createTaskSchema,
  type ImportGithubIssueInput,
  importGithubIssueSchema,
  type ListTasksInput,
  listTasksSchema,
  type TransitionTaskInput,
  transitionTaskSchema,
  type UpdateTaskInput,
  updateTaskSchema,
} from './tasks.contract.ts';
import { tasks } from './tasks.schema.ts';

export const taskSchema = rowSchema(tasks);
const byId = idParams('taskId');
const tag = 'tasks';
// Over HTTP an assignment names its assignee; unassigning is its own route.
const assignBodySchema = assignTaskSchema.unwrap();

const imported = {
  type: 'object',
  properties: {
    task: taskSchema,
    created: {
      type: 'boolean',
      description: 'true when this import made the task, false when it updated it',
    },
  },
  required: ['task', 'created'],
} satisfies JsonSchema;

/** Tasks over HTTP: create, read, list, describe, assign, move along the state machine, import, delete. */
export const taskRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks',
    operationId: 'tasks.create',
    covers: ['tasks.create'],
    tag,
    summary: 'Create a task (draft, backlog or assigned; an agent or a member as assignee, never both)',
    body: createTaskSchema,
    status: 201,
    response: taskSchema,
    handler: ({ tx, body }) => tx.tasks.create(body as CreateTaskInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/github-import',
    operationId: 'tasks.importGithubIssue',
    covers: ['tasks.importGithubIssue'],
    tag,
    summary: 'Import a GitHub issue as a task: the same issue again updates the task it made',
    body: importGithubIssueSchema,
    response: imported,
    handler: ({ tx, body }) => tx.tasks.importGithubIssue(body as ImportGithubIssueInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks',
    operationId: 'tasks.list',
    singleStatement: true,
    covers: ['tasks.list'],
    tag,
    summary: 'List live tasks newest first, by project, status, priority or assignee',
    query: listTasksSchema,
    response: pageSchema(taskSchema),
    handler: ({ tx, query }) => tx.tasks.list(query as ListTasksInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId',
    operationId: 'tasks.get',
    singleStatement: true,
    covers: ['tasks.get'],
    tag,
    summary: 'Read a task',
    params: byId,
    response: taskSchema,
    handler: ({ tx, params }) => tx.tasks.get(params.taskId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/tasks/:taskId',
    operationId: 'tasks.update',
    covers: ['tasks.update'],
    tag,
    summary: 'Change a task’s descriptive fields (status and assignee have their own routes)',
    params: byId,
    body: updateTaskSchema,
    response: taskSchema,
    handler: ({ tx, params, body }) => tx.tasks.update(params.taskId!, body as UpdateTaskInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/assign',
    operationId: 'tasks.assign',
    covers: ['tasks.assign'],
    tag,
    summary: 'Assign a task to an agent (`agentId`) or a member (`userId`); a backlog task becomes assigned',
    params: byId,
    body: assignBodySchema,
    response: taskSchema,
    handler: ({ tx, params, body }) =>
      tx.tasks.assign(params.taskId!, body as Exclude<AssignTaskInput, null>),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/unassign',
    operationId: 'tasks.unassign',
    covers: ['tasks.unassign'],
    tag,
    summary: 'Clear a task’s assignee; an assigned or in-progress task goes back to the backlog',
    params: byId,
    response: taskSchema,
    handler: ({ tx, params }) => tx.tasks.unassign(params.taskId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/transition',
    operationId: 'tasks.transition',
    covers: ['tasks.transition'],
    tag,
    summary:
      'Move a task to another status (409 `invalid_transition` naming both states; `retries_exhausted` for a failed task out of retries)',
    params: byId,
    body: transitionTaskSchema,
    response: taskSchema,
    handler: ({ tx, params, body }) => tx.tasks.transition(params.taskId!, body as TransitionTaskInput),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/tasks/:taskId',
    operationId: 'tasks.delete',
    covers: ['tasks.delete'],
    tag,
    summary: 'Soft-delete a task: gone to readers and frozen; purged later by the service role',
    params: byId,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.tasks.delete(params.taskId!);
    },
  }),
];
