import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { jsonObjectSchema, parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { type AgentState, agentStates } from './agent-states.schema.ts';
import { projectNotFound } from './project-not-found.ts';

const saveStateSchema = z.strictObject({
  projectId: uuidSchema,
  state: jsonObjectSchema,
  /** The version the caller read; null when it expects no state to exist yet. */
  expectedVersion: z.number().int().min(1).nullable(),
});
export type SaveAgentStateInput = z.input<typeof saveStateSchema>;

/** The durable agent state of each project, written with optimistic concurrency. */
export const agentStatesRepository = {
  async get(tx: TenantTx, projectId: string): Promise<AgentState> {
    const project = parseId(projectId, 'project');
    const [row] = await tx.db.select().from(agentStates).where(eq(agentStates.projectId, project));
    if (!row) throw new NotFoundError('agent state', project);
    return row;
  },

  /**
   * Writes the state if the stored version is still `expectedVersion` (or, with null, if there is
   * none yet) and bumps the version. A writer that read an older version gets a ConflictError and
   * must read again: no update is ever silently lost.
   */
  async save(tx: TenantTx, input: SaveAgentStateInput): Promise<AgentState> {
    const { projectId, state, expectedVersion } = parseInput(saveStateSchema, input, 'agent state');
    if (expectedVersion === null) {
      const [created] = await tx.db
        .insert(agentStates)
        .values({ tenantId: tx.tenantId, projectId, state })
        .onConflictDoNothing({ target: [agentStates.tenantId, agentStates.projectId] })
        .returning()
        .catch((error: unknown) => {
          throw projectNotFound(error, projectId);
        });
      if (created) return created;
    } else {
      const [updated] = await tx.db
        .update(agentStates)
        .set({ state, version: expectedVersion + 1 })
        .where(and(eq(agentStates.projectId, projectId), eq(agentStates.version, expectedVersion)))
        .returning();
      if (updated) return updated;
    }
    const [current] = await tx.db
      .select({ version: agentStates.version })
      .from(agentStates)
      .where(eq(agentStates.projectId, projectId));
    if (!current) throw new NotFoundError('agent state', projectId);
    throw new ConflictError(
      `agent state of project ${projectId} is at version ${current.version}, not ${expectedVersion ?? 'absent'}: read it again and retry`,
    );
  },
};
