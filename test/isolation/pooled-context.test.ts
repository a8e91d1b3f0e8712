import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

interface Observation {
  expected: string;
  seen: Array<string | null>;
  projectTenants: string[];
}

describeEachEngine(
  'tenant context on a shared pool',
  (h) => {
    let pooled: Store;
    let a: TenantFixture;
    let b: TenantFixture;

    beforeAll(async () => {
      // Three connections for 200 transactions: every connection serves both tenants many times.
      pooled = await h.openAnother({ postgres: { max: 3 } });
      a = await createTenant(h.store);
      b = await createTenant(h.store);
      for (const fixture of [a, b]) {
        await h.store.withTenant(fixture.context, (tx) => tx.projects.create({ slug: 'p', name: 'P' }));
      }
    });

    it('200 interleaved transactions of two tenants never see each other’s context', async () => {
      const transactions = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b));
      const observations = await Promise.all(
        transactions.map((fixture, i) =>
          pooled.withTenant(
            fixture.context,
            async (tx): Promise<Observation> => {
              const read = async () => {
                const [row] = await tx.query<{ tenant: string | null }>(
                  `SELECT current_setting('agentflow.tenant_id', true) AS tenant`,
                );
                return row?.tenant ?? null;
              };
              const first = await read();
              // Yield so that other transactions run on the other connections in between.
              await sleep(i % 3);
              const { items: projects } = await tx.projects.list();
              const second = await read();
              return {
                expected: fixture.tenant.id,
                seen: [first, second],
                projectTenants: projects.map((p) => p.tenantId),
              };
            },
            // Read-only units return before their COMMIT completes: mix them in to show that the
            // connection still goes back to the pool clean.
            { readOnly: i % 4 === 1 },
          ),
        ),
      );
      for (const observation of observations) {
        expect(observation.seen).toEqual([observation.expected, observation.expected]);
        expect(observation.projectTenants).toEqual([observation.expected]);
      }
    });

    it('leaves no tenant or role behind on the pooled connections', async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          // Single-statement units pipeline their COMMIT behind the statement: mixed in as well.
          pooled.withTenant((i % 2 ? a : b).context, (tx) => tx.projects.list(), {
            singleStatement: i % 3 === 0,
          }),
        ),
      );
      const leftovers = await Promise.all(
        Array.from({ length: 9 }, () =>
          pooled.engine.transaction(undefined, (connection) =>
            connection.query<{ tenant: string | null; role: string }>(
              `SELECT nullif(current_setting('agentflow.tenant_id', true), '') AS tenant, current_user::text AS role`,
            ),
          ),
        ),
      );
      for (const [row] of leftovers) {
        expect(row?.tenant).toBeNull();
        expect(row?.role).not.toBe('agentflow_app');
      }
    });

    it('rolls back a failed unit of work and frees its connection', async () => {
      const failures = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          pooled.withTenant(a.context, async (tx) => {
            await tx.projects.create({ slug: 'doomed', name: 'Doomed' });
            throw new Error('work failed after a write');
          }),
        ),
      );
      expect(failures.every((f) => f.status === 'rejected')).toBe(true);
      // All three connections are usable again and nothing of the failed work remains.
      const slugs = await Promise.all(
        Array.from({ length: 6 }, () =>
          pooled.withTenant(a.context, async (tx) => (await tx.projects.list()).items.map((p) => p.slug)),
        ),
      );
      for (const list of slugs) expect(list).toEqual(['p']);
    });
  },
  'server',
  { pgbouncer: {} },
);
