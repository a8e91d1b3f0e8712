import { and, eq } from 'drizzle-orm';
import { rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, type TenantRouteContext, tenantRoute } from '../http/route.ts';
import { type SaveAgentStateInput, saveAgentStateSchema } from './agent-states.contract.ts';
import { agentStates } from './agent-states.schema.ts';

const state = rowSchema(agentStates);
const byProject = idParams('projectId');
const tag = 'agents';

/** `ifMatch.lock` for a project's state: one row per project, keyed by the project id rather than its own. */
async function lockState({ tx, params }: TenantRouteContext): Promise<void> {
  await tx.db
    .select({ id: agentStates.id })
    .from(agentStates)
    .where(and(eq(agentStates.tenantId, tx.tenantId), eq(agentStates.projectId, params.projectId!)))
    .for('update');
}

/** The durable agent state of a project over HTTP: one document, written with optimistic concurrency. */
export const agentStateRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/agent-state',
    operationId: 'agentStates.get',
    singleStatement: true,
    covers: ['agentStates.get'],
    tag,
    summary: "Read a project's agent state and its version",
    params: byProject,
    response: state,
    handler: ({ tx, params }) => tx.agentStates.get(params.projectId!),
  }),
  tenantRoute({
    method: 'PUT',
    path: '/v1/projects/:projectId/agent-state',
    operationId: 'agentStates.save',
    covers: ['agentStates.save'],
    tag,
    summary:
      'Write the state if it is still at `expectedVersion` (null: none yet), bumping the version; 409 `stale_version` otherwise',
    params: byProject,
    body: saveAgentStateSchema.omit({ projectId: true }),
    response: state,
    // If-Match adds nothing expectedVersion does not check, but lets a client use the ETag of its GET.
    ifMatch: { lock: lockState, current: ({ tx, params }) => tx.agentStates.get(params.projectId!) },
    handler: ({ tx, params, body }) =>
      tx.agentStates.save({
        ...(body as Omit<SaveAgentStateInput, 'projectId'>),
        projectId: params.projectId!,
      }),
  }),
];
