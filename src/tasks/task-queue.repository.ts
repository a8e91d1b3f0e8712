import { and, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { agents } from '../agents/agents.schema.ts';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors/index.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { hasOpenDependency, queueOrder } from './task-dependencies.repository.ts';
import { type TaskQueueInput, taskQueueSchema } from './task-queue.contract.ts';
import { type Task, tasks } from './tasks.schema.ts';

const taskColumns = getTableColumns(tasks);

/**
 * The conditions of the tasks `agentId` may take next, after checking the agent: it exists, is not
 * deleted (NotFoundError), is active or on probation (else ConflictError `agent_unavailable`), and
 * an agent actor asks only for itself (ForbiddenError). Null when it may take nothing here (a
 * project agent asked about another project).
 */
async function candidates(
  tx: TenantScope,
  id: string,
  input: TaskQueueInput,
): Promise<{ agentId: string; conditions: SQL[] } | null> {
  const agentId = parseId(id, 'agent');
  const query = parseInput(taskQueueSchema, input, 'task queue');
  if (tx.actor.type === 'agent' && tx.actor.id !== agentId)
    throw new ForbiddenError('permission_denied', 'an agent takes work from the queue only for itself', {
      entity: 'task',
    });
  const [agent] = await tx.db
    .select({ status: agents.status, projectId: agents.projectId, deletedAt: agents.deletedAt })
    .from(agents)
    .where(and(eq(agents.tenantId, tx.tenantId), eq(agents.id, agentId)));
  if (!agent || agent.deletedAt) throw new NotFoundError('agent', agentId);
  if (agent.status === 'terminated' || agent.status === 'inactive')
    throw new ConflictError('agent_unavailable', `agent ${agentId} is ${agent.status}: it receives no work`, {
      entity: 'agent',
    });
  if (agent.projectId && query.projectId && agent.projectId !== query.projectId) return null;
  const projectId = agent.projectId ?? query.projectId;
  // Status literals inline: the planner then uses the partial queue indexes (migration 14).
  const conditions: SQL[] = [
    eq(tasks.tenantId, tx.tenantId),
    isNull(tasks.deletedAt),
    sql`${tasks.status} IN ('backlog', 'assigned')`,
    sql`((${tasks.assigneeAgentId} IS NULL AND ${tasks.assigneeUserId} IS NULL AND ${tasks.status} = 'backlog')
      OR ${tasks.assigneeAgentId} = ${agentId}::uuid)`,
    sql`NOT ${hasOpenDependency()}`,
  ];
  if (projectId) conditions.push(eq(tasks.projectId, projectId));
  if (agent.status === 'probation') conditions.push(sql`${tasks.priority} <> 'P0'`);
  return { agentId, conditions };
}

/**
 * The work queue: the next task for an agent, in queue order (priority P0 first, then deadline,
 * none last, then age), among the tasks it may take: unassigned backlog tasks and tasks assigned
 * to it (backlog or assigned), of its project when it is a project agent, whose dependencies are
 * all satisfied; never P0 for an agent on probation; nothing for a terminated or inactive one.
 */
export const taskQueueRepository = {
  /** The task `claim` would take now, without taking it; null when there is none. */
  async next(tx: TenantScope, agentId: string, input: TaskQueueInput = {}): Promise<Task | null> {
    const found = await candidates(tx, agentId, input);
    if (!found) return null;
    const [row] = await tx.db
      .select()
      .from(tasks)
      .where(and(...found.conditions))
      .orderBy(...queueOrder)
      .limit(1);
    return row ?? null;
  },

  /**
   * Takes the next task for the agent, atomically: one statement picks it (FOR UPDATE SKIP LOCKED:
   * concurrent claims pass over each other's rows instead of waiting or taking the same one) and
   * sets the agent as assignee and the status in_progress. Null when there is nothing to take. The
   * tasks' own trigger refuses the assignment again if the agent became unavailable meanwhile.
   */
  async claim(tx: TenantScope, agentId: string, input: TaskQueueInput = {}): Promise<Task | null> {
    const found = await candidates(tx, agentId, input);
    if (!found) return null;
    const next = tx.db
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(...found.conditions))
      .orderBy(...queueOrder)
      .limit(1)
      .for('update', { skipLocked: true });
    const [row] = await tx.db
      .update(tasks)
      .set({ assigneeAgentId: found.agentId, assigneeUserId: null, status: 'in_progress' })
      .where(and(eq(tasks.tenantId, tx.tenantId), sql`${tasks.id} = (${next})`))
      .returning(taskColumns);
    return row ?? null;
  },
};
