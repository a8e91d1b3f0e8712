import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { openPostgresEngine } from '../../src/engine/postgres-engine.ts';
import { ConnectionError } from '../../src/errors/index.ts';
import { createServerDatabase, type EmbeddedTestServer, startEmbeddedServer } from '../harness/server.ts';
import { watchForCrashes } from './crash-watch.ts';

// A server of its own, so that it can be stopped and started again under load; skipped with the
// run's other server suites.
const skipReason = inject('serverSkipReason');

(skipReason ? describe.skip : describe)(
  `a server restarted under load [postgres]${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const { crashes } = watchForCrashes();
    let server: EmbeddedTestServer;
    let url: string;
    let engine: Engine;

    beforeAll(async () => {
      server = await startEmbeddedServer();
      url = (await createServerDatabase(server.adminUrl)).url;
      engine = await openPostgresEngine({ url, max: 4, connectTimeout: 5 });
      await engine.transaction(undefined, (c) => c.exec('create table restart_probe (id int primary key)'));
    });
    afterAll(async () => {
      await engine?.close();
      await server?.stop();
    });

    it('rejects the units it cuts off with ConnectionError, keeps every resolved one, and serves again', async () => {
      let next = 0;
      const outcomes: { id: number; result: 'ok' | 'lost' | 'unknown' }[] = [];
      const others: unknown[] = [];
      let phase: 'before' | 'down' | 'after' = 'before';
      const okAfterRestart = () => outcomes.filter((o) => o.id >= restartedAt && o.result === 'ok').length;
      let restartedAt = Number.POSITIVE_INFINITY;
      // Eight callers in a loop, bounded by count and by time, until units succeed after the restart.
      const deadline = Date.now() + 45_000;
      const load = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (Date.now() < deadline && (phase !== 'after' || okAfterRestart() < 50) && next < 20_000) {
            const id = next++;
            try {
              await engine.transaction(undefined, async (tx) => {
                await tx.query('insert into restart_probe values ($1)', [id]);
                await tx.query('select pg_sleep(0.001)');
              });
              outcomes.push({ id, result: 'ok' });
            } catch (error) {
              if (!(error instanceof ConnectionError)) others.push(error);
              else outcomes.push({ id, result: error.commitOutcomeUnknown ? 'unknown' : 'lost' });
              // A caller backs off a little while the server is away, as a retrying client would.
              await sleep(20);
            }
          }
        }),
      );
      await sleep(500);
      phase = 'down';
      await server.halt();
      const failedWhileDown = (async () => {
        await sleep(300);
        return outcomes.filter((o) => o.result !== 'ok').length;
      })();
      await sleep(1_000);
      restartedAt = next;
      await server.resume();
      phase = 'after';
      await load;

      expect(others).toEqual([]);
      expect(await failedWhileDown).toBeGreaterThan(0);
      expect(okAfterRestart()).toBeGreaterThanOrEqual(50);
      const rows = await engine.transaction(undefined, (c) =>
        c.query<{ id: number }>('select id from restart_probe'),
      );
      const committed = new Set(rows.map((r) => r.id));
      for (const { id, result } of outcomes) {
        if (result === 'ok') expect(committed.has(id), `unit ${id} resolved`).toBe(true);
        if (result === 'lost') expect(committed.has(id), `unit ${id} was not committed`).toBe(false);
      }
      const rejected = outcomes.filter((o) => o.result !== 'ok').length;
      console.log(
        `[server restart] ${outcomes.length} units: ${outcomes.length - rejected} committed, ${rejected} rejected with ConnectionError, crashes: ${crashes.length}`,
      );
      expect(crashes).toEqual([]);
    });
  },
);
