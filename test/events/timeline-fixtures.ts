import type { Actor } from '../../src/index.ts';
import type { EngineHarness } from '../harness/engines.ts';
import { createAgent, createTenant, type TenantFixture } from '../harness/fixtures.ts';

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
    dev: await createAgent(h.store, tenant.tenant.id, { projectId: projectId! }),
    lead: await createAgent(h.store, tenant.tenant.id, { type: 'orchestrator' }),
    reviewer: await createAgent(h.store, tenant.tenant.id, { type: 'reviewer' }),
    asAgent: (agentId) => ({ tenantId: tenant.tenant.id, actor: { type: 'agent', id: agentId } }),
  };
}
