import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type AgentHistoryInput,
  agentHistorySchema,
  COST_DIMENSIONS,
  type CostReportInput,
  type CreateTaskExecutionInput,
  costReportSchema,
  createTaskExecutionSchema,
  type FinishTaskExecutionInput,
  finishTaskExecutionSchema,
  type ListTaskExecutionsInput,
  listTaskExecutionsSchema,
  type RecordUsageInput,
  recordUsageSchema,
} from './task-executions.contract.ts';
import { taskExecutions, tenantExecutionTotals } from './task-executions.schema.ts';

const execution = rowSchema(taskExecutions);
const byId = idParams('executionId');
const tag = 'task-executions';
const totals = rowSchema(tenantExecutionTotals, ['tenantId', 'updatedAt']);
const taskTotals: JsonSchema = {
  ...totals,
  properties: { taskId: { type: 'string', format: 'uuid' }, ...(totals.properties as object) },
  required: ['taskId', ...(totals.required as string[])],
};
const historyItem: JsonSchema = {
  ...execution,
  properties: {
    ...(execution.properties as object),
    task: {
      type: 'object',
      properties: { title: { type: 'string' }, status: { type: 'string' } },
      required: ['title', 'status'],
    },
  },
  required: [...(execution.required as string[]), 'task'],
};
const nullableUuid = { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] };
const nullableText = { anyOf: [{ type: 'string' }, { type: 'null' }] };
const reportRow: JsonSchema = {
  ...totals,
  properties: {
    dimension: { type: 'string', enum: [...COST_DIMENSIONS] },
    projectId: nullableUuid,
    agentId: nullableUuid,
    modelProvider: nullableText,
    modelName: nullableText,
    ...(totals.properties as object),
  },
  required: [
    'dimension',
    'projectId',
    'agentId',
    'modelProvider',
    'modelName',
    ...(totals.required as string[]),
  ],
};

/** Agents' runs on tasks over HTTP: record, start, report usage, finish; totals and the cost report. */
export const taskExecutionRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/task-executions',
    operationId: 'taskExecutions.create',
    covers: ['taskExecutions.create'],
    tag,
    summary:
      'Record a run of a task, pending or running (an agent records only its own; costs are decimal strings)',
    body: createTaskExecutionSchema,
    status: 201,
    response: execution,
    handler: ({ tx, body }) => tx.taskExecutions.create(body as CreateTaskExecutionInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-executions',
    operationId: 'taskExecutions.list',
    singleStatement: true,
    covers: ['taskExecutions.list'],
    tag,
    summary: 'List runs newest first, of a task and/or an agent, optionally of some statuses',
    query: listTaskExecutionsSchema,
    response: pageSchema(execution),
    handler: ({ tx, query }) => tx.taskExecutions.list(query as ListTaskExecutionsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-executions/:executionId',
    operationId: 'taskExecutions.get',
    singleStatement: true,
    covers: ['taskExecutions.get'],
    tag,
    summary: 'Read a run',
    params: byId,
    response: execution,
    handler: ({ tx, params }) => tx.taskExecutions.get(params.executionId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/task-executions/:executionId/start',
    operationId: 'taskExecutions.start',
    covers: ['taskExecutions.start'],
    tag,
    summary: 'Start a pending run (409 `invalid_transition` otherwise); the database stamps the start',
    params: byId,
    response: execution,
    handler: ({ tx, params }) => tx.taskExecutions.start(params.executionId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/task-executions/:executionId/usage',
    operationId: 'taskExecutions.recordUsage',
    covers: ['taskExecutions.recordUsage'],
    tag,
    summary: 'Add tokens and cost to a running run; the totals follow in the same transaction',
    params: byId,
    body: recordUsageSchema,
    response: execution,
    handler: ({ tx, params, body }) =>
      tx.taskExecutions.recordUsage(params.executionId!, body as RecordUsageInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/task-executions/:executionId/finish',
    operationId: 'taskExecutions.finish',
    covers: ['taskExecutions.finish'],
    tag,
    summary: 'Finish a run as success, failure or timeout (409 `execution_finished` once final)',
    params: byId,
    body: finishTaskExecutionSchema,
    response: execution,
    handler: ({ tx, params, body }) =>
      tx.taskExecutions.finish(params.executionId!, body as FinishTaskExecutionInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/tasks/:taskId/execution-totals',
    operationId: 'taskExecutions.taskTotals',
    singleStatement: true,
    covers: ['taskExecutions.taskTotals'],
    tag,
    summary: 'A task’s runs, tokens and cost so far (exact decimal text)',
    params: idParams('taskId'),
    response: taskTotals,
    handler: ({ tx, params }) => tx.taskExecutions.taskTotals(params.taskId!),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/execution-totals',
    operationId: 'taskExecutions.tenantTotals',
    singleStatement: true,
    covers: ['taskExecutions.tenantTotals'],
    tag,
    summary: 'The tenant’s runs, tokens and cost so far (exact decimal text)',
    response: totals,
    handler: ({ tx }) => tx.taskExecutions.tenantTotals(),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/cost-report',
    operationId: 'taskExecutions.costReport',
    singleStatement: true,
    covers: ['taskExecutions.costReport'],
    tag,
    summary:
      'Runs, tokens and cost over UTC days [from, to), per tenant, project, agent and model, in one query',
    query: costReportSchema,
    response: { type: 'array', items: reportRow },
    handler: ({ tx, query }) => tx.taskExecutions.costReport(query as CostReportInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agents/:agentId/executions',
    operationId: 'taskExecutions.agentHistory',
    covers: ['taskExecutions.agentHistory'],
    tag,
    summary: 'The tasks an agent executed, newest first: each run’s outcome, tokens and cost, and its task',
    params: idParams('agentId'),
    query: agentHistorySchema,
    response: pageSchema(historyItem),
    handler: ({ tx, params, query }) =>
      tx.taskExecutions.agentHistory(params.agentId!, query as AgentHistoryInput),
  }),
];
