import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgres } from '../../src/engine/postgres-driver.ts';
import { detectPooler, openPostgresEngine } from '../../src/engine/postgres-engine.ts';
import { ConfigurationError } from '../../src/errors/index.ts';
import type { Store } from '../../src/index.ts';
import { watchForCrashes } from '../engine/crash-watch.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';
import { type PgBouncer, startPgBouncer } from '../harness/pgbouncer.ts';

// Started before the suites are declared, so that a missing binary is reported as a skip.
const adminUrl = inject('serverAdminUrl');
const started = adminUrl ? await startPgBouncer(adminUrl) : { skip: 'no server in this run' };
const bouncer: PgBouncer | undefined = 'skip' in started ? undefined : started;

if (!bouncer) {
  describe.skip(`PgBouncer in transaction mode (skipped: ${'skip' in started ? started.skip : ''})`, () => {});
} else {
  afterAll(() => bouncer.stop());

  describeEachEngine(
    `through ${bouncer.version} in transaction mode`,
    (h) => {
      const { crashes } = watchForCrashes();
      let pooled: Store;
      let a: TenantFixture;
      let b: TenantFixture;

      beforeAll(async () => {
        // Migrated directly by the harness; the store under test connects through PgBouncer with
        // default options.
        pooled = await h.openAnother({ url: bouncer.url(h.url), postgres: { max: 10 } });
        a = await createTenant(h.store);
        b = await createTenant(h.store);
        for (const fixture of [a, b]) {
          await h.store.withTenant(fixture.context, async (tx) => {
            for (let i = 0; i < 3; i++) await tx.projects.create({ slug: `p${i}`, name: `P${i}` });
          });
        }
      });

      it('tells a pooler from a direct connection by the cancel key it hands out', async () => {
        const direct = postgres(h.url, { max: 1, onnotice: () => {} });
        const through = postgres(bouncer.url(h.url), { max: 1, onnotice: () => {} });
        try {
          expect(await detectPooler(direct)).toBe(false);
          expect(await detectPooler(through)).toBe(true);
        } finally {
          await Promise.all([direct.end(), through.end()]);
        }
      });

      it('finishes 60 concurrent units with default options (prepared statements turned off)', async () => {
        const outcomes = await Promise.race([
          Promise.allSettled(
            Array.from({ length: 60 }, (_, i) =>
              pooled.withTenant(i % 2 ? a.context : b.context, async (tx) => {
                const projects = await tx.projects.list();
                await tx.projects.create({ slug: `c${i}`, name: `Concurrent ${i}` });
                return projects.items.length;
              }),
            ),
          ),
          sleep(30_000).then(() => 'hung' as const),
        ]);
        expect(outcomes).not.toBe('hung');
        expect((outcomes as PromiseSettledResult<number>[]).map((o) => o.status)).toEqual(
          Array(60).fill('fulfilled'),
        );
      });

      it('refuses to open with prepared statements forced on, instead of hanging', async () => {
        const error = await caught(openPostgresEngine({ url: bouncer.url(h.url), prepare: true }));
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toMatch(/pooler/);
        expect((error as Error).message).not.toContain('agentflow-test');
      });

      it('keeps two tenants apart over 1,000 interleaved units (0 leaks)', async () => {
        let leaks = 0;
        const units = 1_000;
        const seen = await Promise.all(
          Array.from({ length: units }, (_, i) => {
            const fixture = i % 2 ? a : b;
            return pooled.withTenant(
              fixture.context,
              async (tx) => {
                const [context] = await tx.query<{ tenant: string }>(
                  `select current_setting('agentflow.tenant_id', true) as tenant`,
                );
                // Yields so that other units run on PgBouncer's server connections in between.
                await sleep(i % 3);
                const projects = await tx.projects.list();
                return {
                  expected: fixture.tenant.id,
                  context: context?.tenant,
                  owners: projects.items.map((p) => p.tenantId),
                };
              },
              { readOnly: i % 4 === 1 },
            );
          }),
        );
        for (const unit of seen) {
          if (unit.context !== unit.expected || unit.owners.some((owner) => owner !== unit.expected)) leaks++;
          expect(unit.owners.length).toBeGreaterThanOrEqual(3);
        }
        console.log(
          `[pgbouncer] ${units} interleaved units of two tenants, leaks: ${leaks}, crashes: ${crashes.length}`,
        );
        expect(leaks).toBe(0);
        expect(crashes).toEqual([]);
      });
    },
    'server',
  );
}
