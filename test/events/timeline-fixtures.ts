import { randomBytes } from 'node:crypto';
import type { Actor } from '../../src/index.ts';
import type { EngineHarness } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

/** A tenant with a project and agents, for the timeline suites. */
export interface TimelineFixture extends TenantFixture {
  projectId: string;
  otherProjectId: string;
  /** A project agent of `projectId`. */
  dev: string;
  /** Organization agents. */
  lead: string;
  reviewer: string;
  asAgent(agentId: string): { tenantId: string; actor: Actor };
}

/** An agent written as the owner (the agents repository is another domain's). */
export async function createAgent(
  h: EngineHarness,
  tenantId: string,
  projectId: string | null,
  type = 'backend_dev',
): Promise<string> {
  const code = `a-${randomBytes(4).toString('hex')}`;
  const [row] = await h.asOwner((c) =>
    c.query<{ id: string }>(
      `INSERT INTO agents (tenant_id, project_id, level, type, code, name, role_title)
       VALUES ($1, $2, $3, $4, $5, $5, 'Engineer') RETURNING id`,
      [tenantId, projectId, projectId === null ? 'organization' : 'project', type, code],
    ),
  );
  return row!.id;
}

export async function createTimelineTenant(h: EngineHarness): Promise<TimelineFixture> {
  const tenant = await createTenant(h.store);
  const [projectId, otherProjectId] = await h.store.withTenant(tenant.context, async (tx) => [
    (await tx.projects.create({ slug: 'web', name: 'Web' })).id,
    (await tx.projects.create({ slug: 'api', name: 'API' })).id,
  ]);
  return {
    ...tenant,
    projectId: projectId!,
    otherProjectId: otherProjectId!,
    dev: await createAgent(h, tenant.tenant.id, projectId!),
    lead: await createAgent(h, tenant.tenant.id, null, 'orchestrator'),
    reviewer: await createAgent(h, tenant.tenant.id, null, 'reviewer'),
    asAgent: (agentId) => ({ tenantId: tenant.tenant.id, actor: { type: 'agent', id: agentId } }),
  };
}
