import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { schema, type TenantTx, UsageError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

// A tx kept past its unit (a floating promise, a Promise.all whose other branch failed first, a
// timer) must not reach the connection, which by then serves another unit or sits idle in the pool.
const MARK = 8_675_309;

describeEachEngine(
  'a unit of work’s tx once the unit has ended',
  (h) => {
    let a: TenantFixture;
    let b: TenantFixture;

    beforeAll(async () => {
      a = await createTenant(h.store);
      b = await createTenant(h.store);
      await h.store.withTenant(b.context, (tx) => tx.projects.create({ slug: 'b-only', name: 'B' }));
    });

    const projectsNamed = (slug: string) => ownerCount(h, 'projects WHERE slug = $1', [slug]);

    /**
     * Every way a tx sends SQL, each expected to be refused with UsageError. Each leaves a mark had it
     * reached the server: a session advisory lock on MARK, or a project named `slug`.
     */
    const everyChannel = (tx: TenantTx, slug: string) => ({
      query: () => tx.query('SELECT pg_advisory_lock($1)', [MARK]),
      queryArrays: () => tx.queryArrays('SELECT pg_advisory_lock($1)', [MARK]),
      builder: () => tx.db.select({ locked: sql`pg_advisory_lock(${MARK})` }).from(schema.projects),
      execute: () => tx.db.execute(sql`SELECT pg_advisory_lock(${MARK})`),
      insert: () => tx.db.insert(schema.projects).values({ tenantId: a.tenant.id, slug, name: slug }),
      repository: () => tx.projects.create({ slug, name: slug }),
      compiled: () => tx.projects.get('00000000-0000-4000-8000-000000000000'),
    });
    const marks = () =>
      ownerCount(h, `pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1`, [MARK]);

    it('refuses every statement of a tx kept past its unit, read-write, read-only and single-statement alike', async () => {
      for (const options of [{}, { readOnly: true }, { singleStatement: true }]) {
        let kept: TenantTx | undefined;
        await h.store.withTenant(
          a.context,
          async (tx) => {
            kept = tx;
          },
          options,
        );
        for (const [channel, run] of Object.entries(everyChannel(kept!, 'kept-late'))) {
          const error = await caught(Promise.resolve().then(run));
          expect(error, `${channel} ${JSON.stringify(options)}`).toBeInstanceOf(UsageError);
          expect((error as Error).message).toMatch(/unit of work has ended/);
        }
      }
      expect(await projectsNamed('kept-late')).toBe(0);
      expect(await marks()).toBe(0);
    });

    it('refuses the other branch of a Promise.all that failed first, and writes nothing of it', async () => {
      let late: Promise<unknown> | undefined;
      const error = await caught(
        h.store.withTenant(a.context, (tx) => {
          late = sleep(20).then(() => tx.projects.create({ slug: 'after-failure', name: 'Late' }));
          return Promise.all([Promise.reject(new Error('the first branch failed')), late]);
        }),
      );
      expect((error as Error).message).toBe('the first branch failed');
      expect(await caught(late!)).toBeInstanceOf(UsageError);
      expect(await projectsNamed('after-failure')).toBe(0);
    });

    it('refuses a timer that fires while another tenant’s unit runs, so it reads none of that tenant’s rows', async () => {
      let kept: TenantTx | undefined;
      await h.store.withTenant(a.context, async (tx) => {
        kept = tx;
      });
      const seen = await h.store.withTenant(b.context, async (tx) => {
        const stale = await caught(kept!.query<{ slug: string }>('SELECT slug FROM projects'));
        return { stale, own: (await tx.projects.list()).items.map((p) => p.slug) };
      });
      expect(seen.stale).toBeInstanceOf(UsageError);
      expect(seen.own).toEqual(['b-only']);
    });

    it('refuses a query built inside the unit and run after it', async () => {
      let built: PromiseLike<unknown> | undefined;
      await h.store.withTenant(a.context, async (tx) => {
        built = tx.db.select({ locked: sql`pg_advisory_lock(${MARK})` }).from(schema.projects);
      });
      const error = await caught(Promise.resolve(built));
      // Drizzle wraps what its driver throws; the cause is the refusal.
      expect((error as Error).cause).toBeInstanceOf(UsageError);
      expect(await marks()).toBe(0);
    });
  },
  'all',
  { pgbouncer: {} },
);
