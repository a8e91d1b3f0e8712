import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Connection, Engine } from '../../src/engine/engine.ts';
import { usesSafeReserve } from '../../src/engine/postgres-driver.ts';
import { openPostgresEngine } from '../../src/engine/postgres-engine.ts';
import { ConnectionError } from '../../src/errors/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught } from '../harness/fixtures.ts';
import { watchForCrashes } from './crash-watch.ts';

const pidOf = async (tx: Connection) =>
  (await tx.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]?.pid ?? -1;

describeEachEngine(
  'a connection the server drops',
  (h) => {
    const { crashes } = watchForCrashes();
    let engine: Engine;
    let admin: Engine;
    let killed = 0;

    /** Ends a backend from another connection, as an operator or a failover would, and waits for it. */
    const terminate = async (pid: number) => {
      await admin.transaction(undefined, (c) => c.query('select pg_terminate_backend($1, 5000)', [pid]));
      killed++;
    };
    const stored = async (id: number) =>
      (await admin.transaction(undefined, (c) => c.query('select 1 from conn_probe where id = $1', [id])))
        .length;

    beforeAll(async () => {
      admin = await openPostgresEngine({ url: h.url, max: 2 });
      await admin.transaction(undefined, (c) => c.exec('create table conn_probe (id int primary key)'));
      // Two connections: a unit that waits for one is served by the one a dropped unit leaves.
      engine = await openPostgresEngine({ url: h.url, max: 2 });
    });
    afterEach(() => {
      expect(crashes).toEqual([]);
    });
    afterAll(async () => {
      await engine?.close();
      await admin?.close();
      console.log(`[connection loss] backends killed: ${killed}, crashes: ${crashes.length}`);
    });

    it('runs on the patched postgres.js reserve() (a failure here means postgres.js changed)', () => {
      expect(usesSafeReserve).toBe(true);
    });

    it('rejects a unit whose backend is killed mid-statement, and the pool goes on', async () => {
      const error = await caught(
        engine.transaction(undefined, async (tx) => {
          const pid = await pidOf(tx);
          await tx.query('insert into conn_probe values (1)');
          // Settled before it is awaited: caught now, so that its rejection is not reported as unhandled.
          const sleeping = caught(tx.query('select pg_sleep(30)'));
          await sleep(50);
          await terminate(pid);
          throw await sleeping;
        }),
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: 'connection_lost', retryable: true, commitOutcomeUnknown: false });
      expect((error as Error).cause).toBeDefined();
      expect(await stored(1)).toBe(0);
      expect(await engine.transaction(undefined, (tx) => tx.query('select 1 as ok'))).toEqual([{ ok: 1 }]);
    });

    it('rejects a unit that was idle when its backend was killed, without sending its next statement anywhere', async () => {
      // Both connections are taken: the killed unit's connection is reopened for the waiting one,
      // where the unpatched driver ran the killed unit's next statement inside the other's transaction.
      let release: () => void = () => {};
      const holder = engine.transaction(undefined, () => new Promise<void>((resolve) => (release = resolve)));
      let victimPid = -1;
      const victim = caught(
        engine.transaction(undefined, async (tx) => {
          victimPid = await pidOf(tx);
          await tx.query('insert into conn_probe values (2)');
          await terminate(victimPid);
          await sleep(100);
          await tx.query('insert into conn_probe values (3)');
        }),
      );
      const waiting = engine.transaction(undefined, async (tx) => {
        await sleep(300);
        return { pid: await pidOf(tx), rows: await tx.query('select id from conn_probe order by id') };
      });
      const error = await victim;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ commitOutcomeUnknown: false });
      const seen = await waiting;
      expect(seen.pid).not.toBe(victimPid);
      expect(seen.rows).toEqual([]);
      release();
      await holder;
      expect([await stored(2), await stored(3)]).toEqual([0, 0]);
    });

    it('rejects a unit whose backend is killed before its COMMIT', async () => {
      const error = await caught(
        engine.transaction(undefined, async (tx) => {
          await tx.query('insert into conn_probe values (4)');
          await terminate(await pidOf(tx));
          await sleep(100);
        }),
      );
      expect(error).toBeInstanceOf(ConnectionError);
      // COMMIT was issued, so the unit cannot tell whether it reached the server.
      expect(error).toMatchObject({ commitOutcomeUnknown: true });
      expect(await stored(4)).toBe(0);
    });

    it('rejects a unit whose backend is killed during its COMMIT, saying the outcome is unknown', async () => {
      // A deferred constraint trigger makes COMMIT itself take a while.
      await admin.transaction(undefined, (c) =>
        c.exec(`
          create table slow_commit (id int);
          create function slow_commit_check() returns trigger language plpgsql as
            $$ begin perform pg_sleep(30); return null; end $$;
          create constraint trigger slow_commit_check after insert on slow_commit
            deferrable initially deferred for each row execute function slow_commit_check();`),
      );
      let pid = -1;
      const unit = caught(
        engine.transaction(undefined, async (tx) => {
          pid = await pidOf(tx);
          await tx.query('insert into slow_commit values (1)');
        }),
      );
      await sleep(300);
      await terminate(pid);
      const error = await unit;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ commitOutcomeUnknown: true });
      expect(
        await admin.transaction(undefined, (c) => c.query('select count(*)::int as n from slow_commit')),
      ).toEqual([{ n: 0 }]);
    });

    it('rejects a unit that idle_in_transaction_session_timeout ends', async () => {
      const error = await caught(
        engine.transaction(undefined, async (tx) => {
          await tx.query(`select set_config('idle_in_transaction_session_timeout', '100ms', true)`);
          await tx.query('insert into conn_probe values (5)');
          await sleep(500);
          await tx.query('insert into conn_probe values (6)');
        }),
      );
      expect(error).toBeInstanceOf(ConnectionError);
      expect([await stored(5), await stored(6)]).toEqual([0, 0]);
    });

    it('rejects single-statement and read-only units whose backend is gone, and the pool recovers', async () => {
      // A unit whose first statement goes to a connection that closed while it was idle in the pool.
      const pids = await Promise.all(
        [0, 1].map(() => engine.transaction(undefined, async (tx) => pidOf(tx))),
      );
      for (const pid of new Set(pids)) await terminate(pid);
      await sleep(100);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          engine.transaction(undefined, (tx) => tx.query(`insert into conn_probe values (${100 + i})`), {
            singleStatement: i % 2 === 0,
            readOnly: false,
          }),
        ),
      );
      // A pooled connection that closed while idle is reopened before it is handed out.
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('fulfilled'));
      const readOnly = await caught(
        engine.transaction(
          undefined,
          async (tx) => {
            await terminate(await pidOf(tx));
            await sleep(100);
            return tx.query('select 1');
          },
          { readOnly: true },
        ),
      );
      expect(readOnly).toBeInstanceOf(ConnectionError);
    });

    it('keeps every resolved unit committed while backends are killed under load', async () => {
      const units = 300;
      let next = 1000;
      const outcomes: { id: number; result: 'ok' | 'lost' | 'unknown' }[] = [];
      const others: unknown[] = [];
      let running = true;
      const killer = (async () => {
        for (let round = 0; running && round < 200; round++) {
          await sleep(15);
          const [row] = await admin.transaction(undefined, (c) =>
            c.query<{ n: number }>(
              `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
               where datname = current_database() and application_name = 'agentflow'
                 and pid <> pg_backend_pid() and state <> 'idle' and random() < 0.5`,
            ),
          );
          killed += row?.n ?? 0;
        }
      })();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 1000 + units) {
            const id = next++;
            try {
              await engine.transaction(
                undefined,
                async (tx) => {
                  await tx.query('insert into conn_probe values ($1)', [id]);
                  await tx.query('select pg_sleep(0.002)');
                },
                { singleStatement: false },
              );
              outcomes.push({ id, result: 'ok' });
            } catch (error) {
              if (!(error instanceof ConnectionError)) others.push(error);
              else outcomes.push({ id, result: error.commitOutcomeUnknown ? 'unknown' : 'lost' });
            }
          }
        }),
      );
      running = false;
      await killer;
      expect(others).toEqual([]);
      const rows = await admin.transaction(undefined, (c) =>
        c.query<{ id: number }>('select id from conn_probe where id >= 1000'),
      );
      const committed = new Set(rows.map((r) => r.id));
      for (const { id, result } of outcomes) {
        if (result === 'ok') expect(committed.has(id), `unit ${id} resolved`).toBe(true);
        if (result === 'lost') expect(committed.has(id), `unit ${id} was lost before COMMIT`).toBe(false);
      }
      const lost = outcomes.filter((o) => o.result !== 'ok').length;
      console.log(
        `[connection loss] under load: ${units} units, ${units - lost} committed, ${lost} rejected with ConnectionError`,
      );
      expect(lost).toBeGreaterThan(0);
      // The pool recovers: every connection serves again.
      const after = await Promise.all(
        Array.from({ length: 10 }, () => engine.transaction(undefined, (tx) => tx.query('select 1 as ok'))),
      );
      expect(after.flat()).toEqual(Array(10).fill({ ok: 1 }));
      expect(crashes).toEqual([]);
    });
  },
  'server',
);
