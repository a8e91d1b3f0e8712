import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Actor } from '../../src/index.ts';
import { tasks } from '../../src/tasks/tasks.schema.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import type { EngineHarness } from '../harness/engines.ts';

/** A tenant with a project, agents, members of every role that matters, and a way to make tasks. */
export interface ApprovalFixture extends TimelineFixture {
  admin: string;
  manager: string;
  member: string;
  asUser(userId: string): { tenantId: string; actor: Actor };
  /** A task of the project assigned to the dev agent and in progress (inserted with Drizzle). */
  inProgressTask(title?: string): Promise<string>;
  /** A task of the project in the backlog. */
  backlogTask(title?: string): Promise<string>;
  /** A task's status and metadata, read as the owner. */
  taskState(taskId: string): Promise<{ status: string; metadata: Record<string, unknown> }>;
}

export async function createApprovalTenant(h: EngineHarness): Promise<ApprovalFixture> {
  const base = await createTimelineTenant(h);
  const [admin, manager, member] = await h.store.asService({ actor: 'test-fixture' }, async (svc) => {
    const ids: string[] = [];
    for (const role of ['admin', 'manager', 'member'] as const) {
      const user = await svc.users.create({
        email: `${role}-${randomBytes(4).toString('hex')}@approvals.test`,
        name: `The ${role}`,
      });
      await svc.memberships.create(base.tenant.id, { userId: user.id, role });
      ids.push(user.id);
    }
    return ids;
  });
  // As the dev agent: the timeline event of an assignment names its author (migration 13).
  const insertTask = (title: string, inProgress: boolean) =>
    h.store.withTenant(base.asAgent(base.dev), async (tx) => {
      const [task] = await tx.db
        .insert(tasks)
        .values({
          tenantId: base.tenant.id,
          projectId: base.projectId,
          title,
          status: inProgress ? 'assigned' : 'backlog',
          assigneeAgentId: inProgress ? base.dev : null,
        })
        .returning();
      if (inProgress) await tx.db.update(tasks).set({ status: 'in_progress' }).where(eq(tasks.id, task!.id));
      return task!.id;
    });
  return {
    ...base,
    admin: admin!,
    manager: manager!,
    member: member!,
    asUser: (userId) => ({ tenantId: base.tenant.id, actor: { type: 'user', id: userId } }),
    inProgressTask: (title = 'Build the login form') => insertTask(title, true),
    backlogTask: (title = 'Later') => insertTask(title, false),
    async taskState(taskId) {
      const [row] = await h.asOwner((c) =>
        c.query<{ status: string; metadata: Record<string, unknown> }>(
          'SELECT status, metadata FROM tasks WHERE id = $1',
          [taskId],
        ),
      );
      return row!;
    },
  };
}
