import type { Actor, TenantTx, WikiEntry } from '../../src/index.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import type { EngineHarness } from '../harness/engines.ts';
import { createAgent } from '../harness/fixtures.ts';

/**
 * A tenant for the wiki suites: projects `web` (projectId) and `api` (otherProjectId), organization
 * agents `lead` and `reviewer`, project agents `dev` (web) and `apiDev` (api), the owner (who may
 * approve), a `manager` (may approve) and a plain `member` (may not).
 */
export interface WikiFixture extends TimelineFixture {
  apiDev: string;
  manager: string;
  member: string;
  as<T>(actor: Actor, work: (tx: TenantTx) => Promise<T>): Promise<T>;
  agent(id: string): Actor;
  user(id: string): Actor;
  /** Proposes (as `agentId`), submits and approves (as the owner) a new entry. */
  publish(
    agentId: string,
    input: { title: string; slug: string; content: string; projectId?: string; tags?: string[] },
  ): Promise<WikiEntry>;
}

export async function createWikiTenant(h: EngineHarness): Promise<WikiFixture> {
  const base = await createTimelineTenant(h);
  const tenantId = base.tenant.id;
  const [manager, member] = await h.store.asService({ actor: 'test-fixture' }, async (svc) => {
    const ids: string[] = [];
    for (const role of ['manager', 'member'] as const) {
      const user = await svc.users.create({ email: `${role}@${base.tenant.slug}.test`, name: `The ${role}` });
      await svc.memberships.create(tenantId, { userId: user.id, role });
      ids.push(user.id);
    }
    return ids;
  });
  const apiDev = await createAgent(h.store, tenantId, { projectId: base.otherProjectId });
  const as = <T>(actor: Actor, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant({ tenantId, actor }, work);
  const fixture: WikiFixture = {
    ...base,
    apiDev,
    manager: manager!,
    member: member!,
    as,
    agent: (id) => ({ type: 'agent', id }),
    user: (id) => ({ type: 'user', id }),
    async publish(agentId, input) {
      const draft = await as({ type: 'agent', id: agentId }, (tx) =>
        tx.wiki.propose({ ...input, submit: true }),
      );
      return as(base.actor, (tx) => tx.wiki.approve(draft.id));
    },
  };
  return fixture;
}
