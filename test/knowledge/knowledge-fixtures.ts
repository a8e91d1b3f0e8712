import type { Actor, TenantTx } from '../../src/index.ts';
import type { EngineHarness } from '../harness/engines.ts';
import { createAgent, createTenant, type TenantFixture, uniqueSlug } from '../harness/fixtures.ts';

/** A tenant with a project, a task, an organization agent and a member of the `service` role. */
export interface KnowledgeFixture extends TenantFixture {
  projectId: string;
  taskId: string;
  agentId: string;
  /** A user whose membership is the `service` role: a member, but not a human one. */
  serviceUserId: string;
  asAgent: { tenantId: string; actor: Actor };
  asServiceMember: { tenantId: string; actor: Actor };
  /** Runs tenant work as the owner (a human member). */
  asUser<T>(work: (tx: TenantTx) => Promise<T>): Promise<T>;
  /** Runs tenant work as the agent. */
  asAgentDo<T>(work: (tx: TenantTx) => Promise<T>): Promise<T>;
  /** A running execution of the task (the fixture's by default) by the agent: its id. */
  run(taskId?: string): Promise<string>;
}

/** A task of the project, inserted as the owner (tasks have no repository in this worktree). */
export async function createTask(
  h: EngineHarness,
  tenantId: string,
  projectId: string,
  title = 'A task',
): Promise<string> {
  const [task] = await h.asOwner((c) =>
    c.query<{ id: string }>(
      'INSERT INTO tasks (tenant_id, project_id, title) VALUES ($1, $2, $3) RETURNING id',
      [tenantId, projectId, title],
    ),
  );
  return task!.id;
}

export async function createKnowledgeTenant(h: EngineHarness): Promise<KnowledgeFixture> {
  const tenant = await createTenant(h.store);
  const projectId = await h.store.withTenant(tenant.context, async (tx) => {
    return (await tx.projects.create({ slug: 'web', name: 'Web' })).id;
  });
  const agentId = await createAgent(h.store, tenant.tenant.id, { type: 'backend_dev' });
  const serviceUserId = await h.store.asService({ actor: 'test-fixture' }, async (svc) => {
    const slug = uniqueSlug('svc');
    const user = await svc.users.create({ email: `${slug}@bots.test`, name: `Bot ${slug}` });
    await svc.memberships.create(tenant.tenant.id, { userId: user.id, role: 'service' });
    return user.id;
  });
  const asAgent = { tenantId: tenant.tenant.id, actor: { type: 'agent', id: agentId } as Actor };
  const taskId = await createTask(h, tenant.tenant.id, projectId);
  return {
    ...tenant,
    projectId,
    taskId,
    agentId,
    serviceUserId,
    asAgent,
    asServiceMember: { tenantId: tenant.tenant.id, actor: { type: 'user', id: serviceUserId } },
    asUser: (work) => h.store.withTenant(tenant.context, work),
    asAgentDo: (work) => h.store.withTenant(asAgent, work),
    run: async (task = taskId) =>
      (
        await h.store.withTenant(asAgent, (tx) =>
          tx.taskExecutions.create({ taskId: task, status: 'running' }),
        )
      ).id,
  };
}
