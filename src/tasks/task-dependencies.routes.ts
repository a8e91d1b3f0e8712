import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import { uuidSchema } from '../shared/validation.ts';
import {
  type ListTaskDependenciesInput,
  listTaskDependenciesSchema,
  type ReadyTasksInput,
  readyTasksSchema,
  type TopologicalOrderInput,
  type TransitiveTasksInput,
  topologicalOrderSchema,
  transitiveTasksSchema,
} from './task-dependencies.contract.ts';
import { taskDependencies } from './task-dependencies.schema.ts';
import { TASK_PRIORITIES, TASK_STATUSES, tasks } from './tasks.schema.ts';

const tag = 'task-graph';
const edge = rowSchema(taskDependencies);
export const taskSchema = rowSchema(tasks);
const taskAtDepth = {
  ...taskSchema,
  properties: {
    ...(taskSchema.properties as Record<string, JsonSchema>),
    depth: { type: 'integer', description: 'edges away (the shortest way)' },
  },
  required: [...(taskSchema.required as string[]), 'depth'],
} satisfies JsonSchema;
const graphTask = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    title: { type: 'string' },
    status: { type: 'string', enum: [...TASK_STATUSES] },
    priority: { type: 'string', enum: [...TASK_PRIORITIES] },
    estimateHours: { anyOf: [{ type: 'string', description: 'an exact decimal' }, { type: 'null' }] },
    level: { type: 'integer', description: 'the longest chain of open dependencies below the task' },
    dependsOn: { type: 'array', items: { type: 'string', format: 'uuid' } },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'title', 'status', 'priority', 'estimateHours', 'level', 'dependsOn', 'createdAt'],
} satisfies JsonSchema;

const byTask = idParams('taskId');
const byEdge = idParams('taskId', 'dependsOnId');
const byProject = idParams('projectId');
const addBody = z.strictObject({ dependsOnId: uuidSchema });
const listQuery = listTaskDependenciesSchema.omit({ taskId: true });
const readyQuery = readyTasksSchema.omit({ projectId: true });
const orderQuery = topologicalOrderSchema.omit({ projectId: true });

/** The task graph over HTTP: edges, transitive walks, ready tasks, topological order, critical path. */
export const taskDependencyRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/tasks/:taskId/dependencies',
    operationId: 'taskDependencies.add',
    covers: ['taskDependencies.add'],
    tag,
    summary: 'Make the task wait for another of its project (409 `cycle` when that closes a cycle)',
    params: byTask,
    body: addBody,
    status: 201,
    response: edge,
    handler: ({ tx, params, body }) =>
      tx.taskDependencies.add({
        taskId: params.taskId!,
        dependsOnId: (body as z.input<typeof addBody>).dependsOnId,
      }),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/tasks/:taskId/dependencies/:dependsOnId',
    operationId: 'taskDependencies.remove',
    covers: ['taskDependencies.remove'],
    tag,
    summary: 'Remove a dependency edge',
    params: byEdge,
    response: edge,
    handler: ({ tx, params }) =>
      tx.taskDependencies.remove({ taskId: params.taskId!, dependsOnId: params.dependsOnId! }),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/dependencies',
    operationId: 'taskDependencies.list',
    covers: ['taskDependencies.list'],
    tag,
    summary: 'A task’s direct edges: what it waits for (default) or what waits for it',
    params: byTask,
    query: listQuery,
    response: pageSchema(edge),
    handler: ({ tx, params, query }) =>
      tx.taskDependencies.list({
        ...(query as Omit<ListTaskDependenciesInput, 'taskId'>),
        taskId: params.taskId!,
      }),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/transitive-dependencies',
    operationId: 'taskDependencies.dependencies',
    covers: ['taskDependencies.dependencies'],
    tag,
    summary: 'Everything the task waits for, transitively, up to maxDepth edges away, nearest first',
    params: byTask,
    query: transitiveTasksSchema,
    response: pageSchema(taskAtDepth),
    handler: ({ tx, params, query }) =>
      tx.taskDependencies.dependencies(params.taskId!, query as TransitiveTasksInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/transitive-dependents',
    operationId: 'taskDependencies.dependents',
    covers: ['taskDependencies.dependents'],
    tag,
    summary: 'Everything that waits for the task, transitively, up to maxDepth edges away, nearest first',
    params: byTask,
    query: transitiveTasksSchema,
    response: pageSchema(taskAtDepth),
    handler: ({ tx, params, query }) =>
      tx.taskDependencies.dependents(params.taskId!, query as TransitiveTasksInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/ready-tasks',
    operationId: 'taskDependencies.readyTasks',
    covers: ['taskDependencies.readyTasks'],
    tag,
    summary: 'Backlog and assigned tasks whose dependencies are all done, in work-queue order',
    params: byProject,
    query: readyQuery,
    response: pageSchema(taskSchema),
    handler: ({ tx, params, query }) =>
      tx.taskDependencies.readyTasks({
        ...(query as Omit<ReadyTasksInput, 'projectId'>),
        projectId: params.projectId!,
      }),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/topological-order',
    operationId: 'taskDependencies.topologicalOrder',
    covers: ['taskDependencies.topologicalOrder'],
    tag,
    summary: 'The project’s open tasks, each after all its open dependencies',
    params: byProject,
    query: orderQuery,
    response: pageSchema(graphTask),
    handler: ({ tx, params, query }) =>
      tx.taskDependencies.topologicalOrder({
        ...(query as Omit<TopologicalOrderInput, 'projectId'>),
        projectId: params.projectId!,
      }),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/critical-path',
    operationId: 'taskDependencies.criticalPath',
    covers: ['taskDependencies.criticalPath'],
    tag,
    summary: 'The longest chain of open tasks, weighted by estimate (1 hour when none)',
    params: byProject,
    response: {
      type: 'object',
      properties: {
        tasks: { type: 'array', items: graphTask, description: 'first to do first' },
        totalHours: { type: 'string', description: 'an exact decimal' },
      },
      required: ['tasks', 'totalHours'],
    },
    handler: ({ tx, params }) => tx.taskDependencies.criticalPath(params.projectId!),
  }),
];
