import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import { taskSchema } from './task-dependencies.routes.ts';
import { type TaskQueueInput, taskQueueSchema } from './task-queue.contract.ts';

const tag = 'task-queue';
const byAgent = idParams('agentId');
const maybeTask = {
  type: 'object',
  properties: {
    task: { anyOf: [taskSchema, { type: 'null' }], description: 'null when there is nothing to take' },
  },
  required: ['task'],
} satisfies JsonSchema;

/** The work queue over HTTP: peek at and claim an agent's next task. */
export const taskQueueRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/agents/:agentId/next-task',
    operationId: 'taskQueue.next',
    covers: ['taskQueue.next'],
    tag,
    summary: 'The task the agent would claim now (priority, deadline, age), without taking it',
    params: byAgent,
    query: taskQueueSchema,
    response: maybeTask,
    handler: async ({ tx, params, query }) => ({
      task: await tx.taskQueue.next(params.agentId!, query as TaskQueueInput),
    }),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/claim',
    operationId: 'taskQueue.claim',
    covers: ['taskQueue.claim'],
    tag,
    summary: 'Take the agent’s next task atomically: it becomes the assignee and the task in_progress',
    params: byAgent,
    body: taskQueueSchema,
    response: maybeTask,
    handler: async ({ tx, params, body }) => ({
      task: await tx.taskQueue.claim(params.agentId!, (body ?? {}) as TaskQueueInput),
    }),
  }),
];
