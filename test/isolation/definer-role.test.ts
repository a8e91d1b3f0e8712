import { beforeAll, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant } from '../harness/fixtures.ts';

describeEachEngine('the functions that keep usage counters', (h) => {
  // Migration 11 takes TEMPORARY from the application roles; these probes stand for a database where
  // it could not (a migrating role that does not own the database), so they get it back here.
  beforeAll(() =>
    h.asOwner((c) =>
      c.exec(
        `DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO agentflow_app', current_database()); END $$`,
      ),
    ),
  );

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

  it('cannot be attached to a table of the caller own: no forged usage or audit rows', async () => {
    const f = await createTenant(h.store);
    for (const fn of ['count_live_projects', 'audit_row', 'require_live_project']) {
      const error = await caught(
        h.store.withTenant(f.context, async (tx) => {
          await tx.query('CREATE TEMP TABLE bait (tenant_id uuid, deleted_at timestamptz) ON COMMIT DROP');
          await tx.query(
            `CREATE TRIGGER bait AFTER DELETE ON bait FOR EACH ROW EXECUTE FUNCTION agentflow.${fn}()`,
          );
        }),
      );
      expect(error, fn).toBeInstanceOf(ForbiddenError);
    }
  });

  it('ignore temporary tables that shadow the real ones (pg_temp is searched last)', async () => {
    const f = await createTenant(h.store, { quotas: { tokens: 5 } });
    const before = await h.asOwner((c) =>
      c.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1', [f.tenant.id]),
    );
    const used = await h.store.withTenant(f.context, async (tx) => {
      await tx.query('CREATE TEMP TABLE audit_logs (LIKE public.audit_logs) ON COMMIT DROP');
      await tx.query(
        `CREATE TEMP TABLE tenants ON COMMIT DROP AS SELECT id, '{}'::jsonb AS usage, '{}'::jsonb AS quotas FROM public.tenants WHERE false`,
      );
      await tx.projects.create({ slug: 'audited', name: 'Audited' });
      return tx.tenants.incrementUsage('tokens', 5);
    });
    expect(used).toBe(5);
    const after = await h.asOwner((c) =>
      c.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1', [f.tenant.id]),
    );
    // The project insert and the usage update were audited in the real trail.
    expect((after[0]?.n ?? 0) - (before[0]?.n ?? 0)).toBeGreaterThanOrEqual(2);
    // The quota was read from the real tenants row: one more token is refused.
    expect(
      await caught(h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('tokens'))),
    ).toBeInstanceOf(ForbiddenError);
  });

  it('still count projects and let the service role correct usage', async () => {
    const f = await createTenant(h.store, { quotas: { projects: 5 } });
    await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'one', name: 'One' }));
    const usage = await h.store.asService({ actor: 'test' }, async (svc) => {
      await svc.tenants.adjustUsage(f.tenant.id, 'tokens', 10);
      await svc.tenants.adjustUsage(f.tenant.id, 'tokens', -4);
      return (await svc.tenants.get(f.tenant.id)).usage;
    });
    expect(usage).toEqual({ projects: 1, tokens: 6 });
  });
});
