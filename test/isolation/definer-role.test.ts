import { expect, it } from 'vitest';
import { ForbiddenError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant } from '../harness/fixtures.ts';

describeEachEngine('the functions that keep usage counters', (h) => {
  it('belong to agentflow_definer: the service role can neither drop nor replace them', async () => {
    for (const statement of [
      'DROP FUNCTION agentflow.count_live_projects() CASCADE',
      'ALTER FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) OWNER TO agentflow_service',
    ]) {
      const error = await caught(h.store.asService({ actor: 'test' }, (svc) => svc.query(statement)));
      expect(error, statement).toBeInstanceOf(ForbiddenError);
    }
    const [trigger] = await h.asOwner((c) =>
      c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'projects_count_usage'`,
      ),
    );
    expect(trigger?.n).toBe(1);
  });

  it('still count projects and let the service role correct usage', async () => {
    const f = await createTenant(h.store, { quotas: { projects: 5 } });
    await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'one', name: 'One' }));
    const usage = await h.store.asService({ actor: 'test' }, async (svc) => {
      await svc.query('SELECT agentflow.add_usage($1, $2, $3)', [f.tenant.id, 'tokens', 10]);
      await svc.query('SELECT agentflow.add_usage($1, $2, $3)', [f.tenant.id, 'tokens', -4]);
      return (await svc.tenants.get(f.tenant.id)).usage;
    });
    expect(usage).toEqual({ projects: 1, tokens: 6 });
  });
});
