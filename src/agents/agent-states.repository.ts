import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { belongsToLiveProject } from '../projects/live-project.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { type SaveAgentStateInput, saveAgentStateSchema } from './agent-states.contract.ts';
import { type AgentState, agentStates } from './agent-states.schema.ts';

const columns = getTableColumns(agentStates);
const selectState = compileStatement(columns, ['projectId'], (db, p) =>
  db
    .select()
    .from(agentStates)
    .where(
      and(
        eq(agentStates.projectId, p.projectId),
        belongsToLiveProject(db, agentStates.tenantId, agentStates.projectId),
      ),
    ),
);
const selectVersion = compileStatement({ version: agentStates.version }, ['projectId'], (db, p) =>
  db
    .select({ version: agentStates.version })
    .from(agentStates)
    .where(
      and(
        eq(agentStates.projectId, p.projectId),
        belongsToLiveProject(db, agentStates.tenantId, agentStates.projectId),
      ),
    ),
);
const insertState = compileStatement(columns, ['tenantId', 'projectId', 'state'], (db, p) =>
  db
    .insert(agentStates)
    .values({ tenantId: p.tenantId, projectId: p.projectId, state: p.state })
    .onConflictDoNothing({ target: [agentStates.tenantId, agentStates.projectId] })
    .returning(),
);
const updateState = compileStatement(columns, ['projectId', 'state', 'expectedVersion'], (db, p) =>
  db
    .update(agentStates)
    .set({ state: sql`${sql.param(p.state, agentStates.state)}`, version: sql`${agentStates.version} + 1` })
    .where(and(eq(agentStates.projectId, p.projectId), eq(agentStates.version, p.expectedVersion)))
    .returning(),
);

/** The durable agent state of each project, written with optimistic concurrency. */
export const agentStatesRepository = {
  async get(tx: TenantScope, projectId: string): Promise<AgentState> {
    const project = parseId(projectId, 'project');
    const [row] = await selectState.run(tx, { projectId: project });
    if (!row) throw new NotFoundError('agent state', project);
    return row;
  },

  /**
   * Writes the state if the stored version is still `expectedVersion` (or, with null, if there is
   * none yet) and bumps the version. A writer that read an older version gets a ConflictError and
   * must read again: no update is ever silently lost.
   */
  async save(tx: TenantScope, input: SaveAgentStateInput): Promise<AgentState> {
    const { projectId, state, expectedVersion } = parseInput(saveAgentStateSchema, input, 'agent state');
    if (expectedVersion === null) {
      const [created] = await insertState.run(tx, { tenantId: tx.tenantId, projectId, state });
      if (created) return created;
    } else {
      const [updated] = await updateState.run(tx, { projectId, state, expectedVersion });
      if (updated) return updated;
    }
    const [current] = await selectVersion.run(tx, { projectId });
    if (!current) throw new NotFoundError('agent state', projectId);
    throw new ConflictError(
      'stale_version',
      `agent state of project ${projectId} is at version ${current.version}, not ${expectedVersion ?? 'absent'}: read it again and retry`,
      { entity: 'agent state' },
    );
  },
};
