import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { DatabaseError, UsageError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture, uniqueSlug } from '../harness/fixtures.ts';

// A unit's transaction is the library's: tx.query('commit') would end it behind the unit's back,
// and the rest of the work would run in autocommit as the connecting user.
describeEachEngine(
  'transaction control inside a unit of work',
  (h) => {
    let f: TenantFixture;

    beforeAll(async () => {
      f = await createTenant(h.store);
    });

    const refused = [
      'commit',
      'COMMIT WORK',
      'end',
      'abort',
      'rollback',
      'ROLLBACK AND CHAIN',
      '  -- a comment first\n  /* and /* a nested */ one */ Commit',
      'begin',
      'START TRANSACTION',
      "PREPARE TRANSACTION 'x'",
      "COMMIT PREPARED 'x'",
      'PREPARE leak AS SELECT 1',
      'DEALLOCATE ALL',
      'DISCARD ALL',
      'LISTEN channel',
      'SET statement_timeout = 1',
      'set session search_path = pg_temp, public',
      'SET ROLE agentflow_service',
      'SET SESSION AUTHORIZATION DEFAULT',
      'RESET ALL',
      'RESET ROLE',
      'DECLARE c CURSOR WITH HOLD FOR SELECT 1',
      'declare "c" binary no scroll cursor with hold for select 1',
    ];

    it('refuses each statement through tx.query and tx.db.execute with UsageError; earlier writes roll back', async () => {
      for (const statement of refused) {
        for (const [channel, run] of [
          ['query', (tx: { query(text: string): Promise<unknown> }) => tx.query(statement)],
          [
            'execute',
            (tx: { db: { execute(q: unknown): Promise<unknown> } }) => tx.db.execute(sql.raw(statement)),
          ],
        ] as const) {
          const slug = uniqueSlug('tc');
          const error = await caught(
            h.store.withTenant(f.context, async (tx) => {
              await tx.projects.create({ slug, name: slug });
              await run(tx as never);
            }),
          );
          expect(error, `${channel}: ${statement}`).toBeInstanceOf(UsageError);
          expect(await ownerCount(h, 'projects WHERE slug = $1', [slug]), statement).toBe(0);
        }
      }
    });

    it('leaves the unit’s transaction, role and tenant intact when the work catches the refusal', async () => {
      const slug = uniqueSlug('kept');
      const seen = await h.store.withTenant(f.context, async (tx) => {
        await tx.projects.create({ slug, name: slug });
        for (const statement of ['commit', 'rollback', 'begin'])
          expect(await caught(tx.query(statement))).toBeInstanceOf(UsageError);
        const [row] = await tx.query<{ role: string; tenant: string; inside: boolean }>(
          `SELECT current_user::text AS role, current_setting('agentflow.tenant_id') AS tenant,
          now() = statement_timestamp() AS inside`,
        );
        return { row, projects: (await tx.projects.list()).items.map((p) => p.slug) };
      });
      // now() is the transaction's start: a later statement of the same transaction sees a different time.
      expect(seen.row).toEqual({ role: 'agentflow_app', tenant: f.tenant.id, inside: false });
      expect(seen.projects).toContain(slug);
      expect(await ownerCount(h, 'projects WHERE slug = $1', [slug])).toBe(1);
    });

    it('refuses a second transaction through Drizzle (tx.db.transaction)', async () => {
      const error = await caught(
        h.store.withTenant(f.context, (tx) => tx.db.transaction(async () => 'nested')),
      );
      expect(error).toBeInstanceOf(UsageError);
    });

    it('runs a statement holding several commands as one, so the server refuses it and nothing commits', async () => {
      const slug = uniqueSlug('multi');
      const error = await caught(
        h.store.withTenant(f.context, async (tx) => {
          await tx.projects.create({ slug, name: slug });
          await tx.query('SELECT 1; COMMIT');
        }),
      );
      expect(error).toBeInstanceOf(DatabaseError);
      expect(await ownerCount(h, 'projects WHERE slug = $1', [slug])).toBe(0);
    });

    it('allows savepoints and transaction-local settings', async () => {
      const slug = uniqueSlug('sp');
      const timeout = await h.store.withTenant(f.context, async (tx) => {
        await tx.query('SAVEPOINT before_project');
        await tx.projects.create({ slug, name: slug });
        await tx.query('ROLLBACK TO SAVEPOINT before_project');
        await tx.query('rollback transaction to before_project');
        await tx.query('RELEASE SAVEPOINT before_project');
        await tx.query("SET LOCAL statement_timeout = '5min'");
        await tx.query('SET CONSTRAINTS ALL IMMEDIATE');
        const [row] = await tx.query<{ timeout: string }>(
          `SELECT current_setting('statement_timeout') AS timeout`,
        );
        return row?.timeout;
      });
      expect(timeout).toBe('5min');
      expect(await ownerCount(h, 'projects WHERE slug = $1', [slug])).toBe(0);
    });
  },
  'all',
  { pgbouncer: {} },
);
