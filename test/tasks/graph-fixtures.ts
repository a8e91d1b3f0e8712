import type { TenantTx } from '../../src/index.ts';
import type { EngineHarness } from '../harness/engines.ts';

export interface TaskSpec {
  title?: string;
  priority?: 'P0' | 'P1' | 'P2' | 'P3';
  deadline?: string | null;
  estimateHours?: string | null;
  assigneeAgentId?: string | null;
  status?: 'backlog' | 'assigned';
}

/** Inserts tasks into a project as the tenant (the app role), in one transaction; returns their ids in order. */
export async function createTasks(
  h: EngineHarness,
  context: { tenantId: string; actor: { type: 'user' | 'agent'; id: string } },
  projectId: string,
  specs: TaskSpec[],
): Promise<string[]> {
  return h.store.withTenant(context, (tx: TenantTx) => insertTasks(tx, projectId, specs));
}

export async function insertTasks(tx: TenantTx, projectId: string, specs: TaskSpec[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const [row] = await tx.query<{ id: string }>(
      `INSERT INTO tasks (project_id, title, priority, deadline, estimate_hours, assignee_agent_id, status)
       VALUES ($1, $2, $3, $4::timestamptz, $5::numeric, $6::uuid, $7) RETURNING id`,
      [
        projectId,
        spec.title ?? `task ${i}`,
        spec.priority ?? 'P2',
        spec.deadline ?? null,
        spec.estimateHours ?? null,
        spec.assigneeAgentId ?? null,
        spec.status ?? (spec.assigneeAgentId ? 'assigned' : 'backlog'),
      ],
    );
    ids.push(row!.id);
  }
  return ids;
}

/**
 * Moves tasks to completed (through in_progress, assigned to the acting agent) or cancelled, as the
 * tenant. The actor is an agent: migration 13's task_completed event needs an author, and only an
 * acting agent gives it one (a user completing a task is refused by events_system_author).
 */
export async function finish(
  h: EngineHarness,
  context: { tenantId: string; actor: { type: 'user' | 'agent'; id: string } },
  status: 'completed' | 'cancelled',
  ...taskIds: string[]
): Promise<void> {
  await h.store.withTenant(context, async (tx) => {
    for (const id of taskIds) {
      if (status === 'completed') {
        await tx.query(
          `UPDATE tasks SET assignee_user_id = NULL, assignee_agent_id = $2, status = 'in_progress' WHERE id = $1`,
          [id, context.actor.id],
        );
        await tx.query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [id]);
      } else {
        await tx.query(`UPDATE tasks SET status = 'cancelled' WHERE id = $1`, [id]);
      }
    }
  });
}
