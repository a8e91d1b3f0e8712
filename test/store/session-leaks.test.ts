import { beforeAll, expect, it } from 'vitest';
import { ForbiddenError, type Store, type TenantTx, UsageError } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';

const MIGRATION_LOCK_KEY = 7_461_830_201;

/** What a unit could leave on its connection, read there outside any unit (the session's own values). */
const SESSION_STATE = `SELECT current_setting('work_mem') AS work_mem,
  current_setting('statement_timeout') AS statement_timeout, current_setting('lock_timeout') AS lock_timeout,
  current_setting('search_path') AS search_path,
  current_setting('default_transaction_read_only') AS default_read_only,
  current_user::text AS role, session_user::text AS session_role,
  (SELECT count(*)::int FROM pg_prepared_statements WHERE from_sql) AS prepared,
  (SELECT count(*)::int FROM pg_cursors) AS cursors,
  (SELECT count(*)::int FROM pg_listening_channels()) AS listening,
  (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
  (SELECT count(*)::int FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temporary_objects`;

/** Leaves every kind of session state it can without a statement the guard refuses by its first word. */
const LEAVE_EVERYTHING = [
  `SELECT set_config('work_mem', '7MB', false), set_config('statement_timeout', '1234', false),
     set_config('lock_timeout', '1s', false), set_config('search_path', 'pg_temp, public', false),
     set_config('default_transaction_read_only', 'on', false), set_config('role', current_user, false),
     pg_advisory_lock(${MIGRATION_LOCK_KEY}), pg_advisory_lock_shared(42)`,
  `DO $$ BEGIN
     EXECUTE 'SET lock_timeout = 2500';
     EXECUTE 'PREPARE leaked AS SELECT 1';
     EXECUTE 'LISTEN leaked';
     EXECUTE 'DECLARE leaked CURSOR WITH HOLD FOR SELECT 1';
   END $$`,
  // Dynamic SQL no statement-level check can read.
  `SELECT query_to_xml('SELECT set_config(''work_mem'', ''11MB'', false), pg_advisory_lock(43)', false, false, '')`,
];

/** Server: a second store on a pool of one connection, so the next unit surely runs where the last one did. */
async function oneConnection(h: EngineHarness): Promise<Store> {
  return h.kind === 'postgres' ? h.openAnother({ postgres: { max: 1 } }) : h.store;
}

describeEachEngine(
  'nothing a unit of work does reaches a later unit on its connection',
  (h) => {
    let store: Store;
    let a: TenantFixture;
    let baseline: Record<string, unknown>;
    const sessionState = async () =>
      (await store.engine.transaction(undefined, (c) => c.query(SESSION_STATE)))[0] as Record<
        string,
        unknown
      >;
    const leave = async (tx: { query(text: string): Promise<unknown> }, fail?: 'database' | 'work') => {
      for (const statement of LEAVE_EVERYTHING) await tx.query(statement);
      if (fail === 'database') await tx.query('SELECT 1/0');
      if (fail === 'work') throw new Error('the work failed');
    };

    beforeAll(async () => {
      store = await oneConnection(h);
      a = await createTenant(store);
      await store.withTenant(a.context, (tx) => tx.projects.create({ slug: 'real', name: 'Real' }));
      baseline = await sessionState();
    });

    it('clears settings, locks, prepared statements, cursors and LISTEN after a committed unit', async () => {
      await store.withTenant(a.context, (tx) => leave(tx));
      expect(await sessionState()).toEqual(baseline);
      // The next unit writes: default_transaction_read_only left behind would have made it read-only.
      const project = await store.withTenant(a.context, (tx) =>
        tx.projects.create({ slug: 'next', name: 'Next' }),
      );
      expect(project.slug).toBe('next');
    });

    it('clears them after a unit that failed in the database or in its own code', async () => {
      for (const fail of ['database', 'work'] as const) {
        expect(await caught(store.withTenant(a.context, (tx) => leave(tx, fail)))).toBeDefined();
        expect(await sessionState(), fail).toEqual(baseline);
      }
    });

    it('clears them after read-only, single-statement and service units', async () => {
      await store.withTenant(a.context, (tx) => leave(tx), { readOnly: true });
      // A read-only unit returns before its COMMIT: the connection is clean once the next one has it.
      expect(await sessionState()).toEqual(baseline);
      for (const statement of LEAVE_EVERYTHING) {
        await store.withTenant(a.context, (tx) => tx.query(statement), { singleStatement: true });
        expect(await sessionState(), statement).toEqual(baseline);
        await store.withTenant(a.context, (tx) => tx.query(statement), {
          singleStatement: true,
          readOnly: true,
        });
        expect(await sessionState(), statement).toEqual(baseline);
      }
      await store.asService({ actor: 'test' }, (svc) => leave(svc));
      expect(await sessionState()).toEqual(baseline);
    });

    it('leaves no advisory lock on the migration key that would block another connection', async (context) => {
      if (h.kind !== 'postgres') return context.skip();
      await store.withTenant(a.context, (tx) => leave(tx));
      const [row] = await h.asOwner((c) =>
        c.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [MIGRATION_LOCK_KEY]),
      );
      expect(row?.got).toBe(true);
    });

    it('refuses temporary objects to the application roles, however they are spelled', async () => {
      for (const statement of [
        'CREATE TEMP TABLE projects (id uuid, tenant_id uuid, slug text)',
        'CREATE TEMPORARY VIEW projects AS SELECT 1 AS id',
        'CREATE TABLE pg_temp.projects (id uuid)',
        'SELECT 1 AS id INTO TEMP projects',
      ]) {
        expect(
          await caught(store.withTenant(a.context, (tx) => tx.query(statement))),
          statement,
        ).toBeInstanceOf(ForbiddenError);
        expect(
          await caught(store.asService({ actor: 'test' }, (svc) => svc.query(statement))),
          statement,
        ).toBeInstanceOf(ForbiddenError);
      }
      expect(await sessionState()).toEqual(baseline);
    });

    it('drops a temporary table named like a library table, and library SQL never reads one', async () => {
      const grant = (verb: 'GRANT' | 'REVOKE') =>
        h.asOwner((c) =>
          c.exec(
            `DO $$ BEGIN EXECUTE format('${verb} TEMPORARY ON DATABASE %I ${verb === 'GRANT' ? 'TO' : 'FROM'} agentflow_app', current_database()); END $$`,
          ),
        );
      // A database whose migrating role could not take TEMPORARY from PUBLIC (it does not own it).
      await grant('GRANT');
      try {
        const inside = await store.withTenant(a.context, async (tx) => {
          await tx.query(`CREATE TEMP TABLE projects AS SELECT * FROM public.projects WHERE false`);
          await tx.query(
            `INSERT INTO pg_temp.projects (id, tenant_id, slug, name) VALUES (gen_random_uuid(), $1, 'decoy', 'Decoy')`,
            [a.tenant.id],
          );
          // The unit's own library SQL reads the real table even now: pg_temp is searched last.
          return (await tx.projects.list()).items.map((p) => p.slug);
        });
        expect(inside).not.toContain('decoy');
        expect(await sessionState()).toEqual(baseline);
        const after = await store.withTenant(a.context, async (tx) =>
          (await tx.projects.list()).items.map((p) => p.slug),
        );
        expect(after).toContain('real');
        expect(after).not.toContain('decoy');
      } finally {
        await grant('REVOKE');
      }
    });

    it('refuses session-level statements by name before they are sent', async () => {
      const refusals = await Promise.all(
        ["SET work_mem = '5MB'", 'RESET ALL', 'PREPARE p AS SELECT 1', 'LISTEN x', 'DISCARD PLANS'].map(
          (statement) => caught(store.withTenant(a.context, (tx: TenantTx) => tx.query(statement))),
        ),
      );
      for (const error of refusals) expect(error).toBeInstanceOf(UsageError);
      expect(await sessionState()).toEqual(baseline);
    });
  },
  'all',
  { pgbouncer: { poolSize: 1 } },
);
