import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import {
  idParams,
  lockRowOf,
  type TenantRoute,
  type TenantRouteContext,
  tenantRoute,
} from '../http/route.ts';
import {
  agentCodeSchema,
  agentStatusSchema,
  type CreateAgentInput,
  createAgentSchema,
  type ListAgentsInput,
  listAgentsSchema,
  type UpdateAgentInput,
  updateAgentSchema,
} from './agents.contract.ts';
import { agents } from './agents.schema.ts';

const agent = rowSchema(agents);
const byId = idParams('agentId');
const tag = 'agents';
const changeStatusSchema = z.strictObject({ status: agentStatusSchema });

// Both writes to one agent compare If-Match with the agent as GET returns it.
const ifMatch = {
  lock: lockRowOf(agents, 'agentId'),
  current: ({ tx, params }: TenantRouteContext) => tx.agents.get(params.agentId!),
};

/** The agents (AI staff) of the caller's tenant over HTTP. */
export const agentRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/agents',
    operationId: 'agents.create',
    covers: ['agents.create'],
    tag,
    summary: 'Create an agent (organization level, or project level with `projectId`)',
    body: createAgentSchema,
    status: 201,
    response: agent,
    handler: ({ tx, body }) => tx.agents.create(body as CreateAgentInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agents',
    operationId: 'agents.list',
    singleStatement: true,
    covers: ['agents.list'],
    tag,
    summary: 'List live agents in code order, filtered by status, type, level, project or capabilities',
    query: listAgentsSchema,
    response: pageSchema(agent),
    handler: ({ tx, query }) => tx.agents.list(query as ListAgentsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agents/by-code/:code',
    operationId: 'agents.getByCode',
    singleStatement: true,
    covers: ['agents.getByCode'],
    tag,
    summary: 'Read an agent by its code',
    params: z.strictObject({ code: agentCodeSchema }),
    response: agent,
    handler: ({ tx, params }) => tx.agents.getByCode(params.code!),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agents/:agentId',
    operationId: 'agents.get',
    singleStatement: true,
    covers: ['agents.get'],
    tag,
    summary: 'Read an agent',
    params: byId,
    response: agent,
    handler: ({ tx, params }) => tx.agents.get(params.agentId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/agents/:agentId',
    operationId: 'agents.update',
    covers: ['agents.update'],
    tag,
    summary: 'Change an agent’s name, role title, model, capabilities or settings',
    params: byId,
    body: updateAgentSchema,
    response: agent,
    ifMatch,
    handler: ({ tx, params, body }) => tx.agents.update(params.agentId!, body as UpdateAgentInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/status',
    operationId: 'agents.changeStatus',
    covers: ['agents.changeStatus'],
    tag,
    summary:
      'Move an agent along its lifecycle (active, probation, inactive, terminated: final); a terminated agent’s keys stop working',
    params: byId,
    body: changeStatusSchema,
    response: agent,
    ifMatch,
    handler: ({ tx, params, body }) =>
      tx.agents.changeStatus(params.agentId!, (body as z.input<typeof changeStatusSchema>).status),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/agents/:agentId',
    operationId: 'agents.delete',
    covers: ['agents.delete'],
    tag,
    summary: 'Soft-delete an agent (its code stays taken; it can no longer act)',
    params: byId,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.agents.delete(params.agentId!);
    },
  }),
];
