/**
 * Where a single-row insert's time goes at 16 callers: for raw postgres.js, the Drizzle idiom and
 * the repository (single-statement and general units), per insert: wall time, this process's CPU,
 * the CPU of the database's server backends (/proc, Linux only), WAL flushes (pg_stat_wal), this
 * process's socket writes and reads (each a system call that wakes the other side), and
 * what the backends were doing, sampled from pg_stat_activity while the inserts ran.
 *
 *   npx tsx bench/insert-probe.ts [pool size] [callers]    # DATABASE_URL as for bench:db
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { sql as drizzleSql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import { APP_ROLE, openStore } from '../src/index.ts';
import { SET_CONTEXT } from '../src/store/store.ts';
import { createServerDatabase, startTestServer } from '../test/harness/server.ts';
import { idiomFileUpsert } from './idiom-upsert.ts';

const POOL = Number(process.argv[2] ?? 8);
const CALLERS = Number(process.argv[3] ?? 16);
const OPS = 600;
const ROUNDS = 5;

// Counts socket writes and reads (data events) of every connection in this process.
const io = { writes: 0, reads: 0 };
const { write, emit } = Socket.prototype;
Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
  io.writes++;
  return (write as (...a: unknown[]) => boolean).apply(this, args);
} as Socket['write'];
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
  if (event === 'data') io.reads++;
  return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
};

/** User + system CPU (ms) of the server processes serving `database`. */
function serverCpuMs(database: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux.
}

async function main(): Promise<void> {
  const server = await startTestServer();
  const database = await createServerDatabase(server.adminUrl);
  const name = new URL(database.url).pathname.slice(1);
  const store = await openStore({ url: database.url, migrate: true, postgres: { max: POOL } });
  const raw = postgres(database.url, { max: POOL, onnotice: () => {} });
  const idiomSql = postgres(database.url, { max: POOL, onnotice: () => {} });
  const admin = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const db = drizzle(idiomSql);
    const { tenantId, actor } = await store.asService({ actor: 'probe' }, async (svc) => {
      const tenant = await svc.tenants.create({ slug: 'probe', name: 'Probe', status: 'active' });
      const user = await svc.users.create({ email: 'probe@probe.example', name: 'Probe' });
      await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
      return { tenantId: tenant.id, actor: { type: 'user' as const, id: user.id } };
    });
    const context = { tenantId, actor };
    const projectIds = await store.withTenant(context, async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < 32; i++)
        ids.push((await tx.projects.create({ slug: `p-${i}`, name: `P ${i}` })).id);
      return ids;
    });
    const upsert = (tx: Pick<typeof db, 'insert'>, projectId: string, path: string) =>
      idiomFileUpsert(tx, { tenantId, projectId, path });
    const template = upsert(db, projectIds[0]!, 'template').toSQL();
    // One project for every insert (as bench:db), or a project per caller.
    const sides = (spread: boolean) => {
      const project = (i: number) => projectIds[spread ? i % projectIds.length : 0]!;
      const params = (i: number, prefix: string) => {
        const values = template.params.map((value) => (value === undefined ? null : value));
        values[values.indexOf(projectIds[0]!)] = project(i);
        values[values.indexOf('template')] = `${prefix}/${randomUUID()}`;
        return values as Postgres.ParameterOrJSON<never>[];
      };
      return {
        raw: (i: number) => raw.unsafe(template.sql, params(i, 'raw'), { prepare: true }),
        // The single-statement unit's protocol steps by hand: what they cost without this library's code.
        'floor: BEGIN + set-up + insert + COMMIT by hand': async (i: number) => {
          const reserved = await raw.reserve();
          try {
            reserved.unsafe('begin').execute();
            reserved
              .unsafe(SET_CONTEXT, [APP_ROLE, tenantId, actor.type, actor.id, ''], { prepare: true })
              .execute();
            const rows = reserved.unsafe(template.sql, params(i, 'floor'), { prepare: true }).execute();
            await reserved.unsafe('commit').execute();
            return await rows;
          } finally {
            reserved.release();
          }
        },
        idiom: (i: number) =>
          db.transaction(async (tx) => {
            await tx.execute(
              drizzleSql`select set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${tenantId}, true), set_config('agentflow.actor_type', ${actor.type}, true), set_config('agentflow.actor_id', ${actor.id}, true)`,
            );
            return upsert(tx, project(i), `idiom/${randomUUID()}`);
          }),
        'repository, single-statement unit': (i: number) =>
          store.withTenant(
            context,
            (tx) =>
              tx.projectFiles.upsert({ projectId: project(i), path: `repo/${randomUUID()}`, content: 'x' }),
            { singleStatement: true },
          ),
        'repository, general unit': (i: number) =>
          store.withTenant(context, (tx) =>
            tx.projectFiles.upsert({ projectId: project(i), path: `repo/${randomUUID()}`, content: 'x' }),
          ),
      };
    };

    for (const spread of [false, true]) {
      const ops = Object.entries(sides(spread));
      const stats = new Map(
        ops.map(([side]) => [
          side,
          {
            wall: [] as number[],
            client: 0,
            server: 0,
            flushes: 0,
            writes: 0,
            reads: 0,
            waits: new Map<string, number>(),
            samples: 0,
          },
        ]),
      );
      for (const [, op] of ops) for (let i = 0; i < 200; i++) await op(i); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < ops.length; k++) {
          const [side, op] = ops[(round + k) % ops.length]!;
          const stat = stats.get(side)!;
          let sampling = true;
          const sampler = (async () => {
            while (sampling) {
              const rows = await admin.unsafe(
                `select coalesce(wait_event_type || ':' || wait_event, 'on CPU') as wait, state
                   from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
              );
              for (const row of rows) {
                const key = row.state === 'active' ? row.wait : `${row.state} (${row.wait})`;
                stat.waits.set(key, (stat.waits.get(key) ?? 0) + 1);
              }
              stat.samples++;
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          })();
          const [walBefore] = await admin`select wal_sync from pg_stat_wal`;
          const serverBefore = serverCpuMs(name);
          const clientBefore = process.cpuUsage();
          const ioBefore = { ...io };
          let next = 0;
          const started = performance.now();
          await Promise.all(
            Array.from({ length: CALLERS }, async () => {
              while (next < OPS) await op(next++);
            }),
          );
          stat.wall.push((performance.now() - started) / OPS);
          stat.writes += (io.writes - ioBefore.writes) / OPS;
          stat.reads += (io.reads - ioBefore.reads) / OPS;
          const client = process.cpuUsage(clientBefore);
          stat.client += (client.user + client.system) / 1000 / OPS;
          stat.server += (serverCpuMs(name) - serverBefore) / OPS;
          sampling = false;
          await sampler;
          const [walAfter] = await admin`select wal_sync from pg_stat_wal`;
          stat.flushes += (Number(walAfter!.wal_sync) - Number(walBefore!.wal_sync)) / OPS;
        }
      }
      console.log(
        `\n${server.origin}; pool ${POOL}, ${CALLERS} callers; ${spread ? 'a project per caller' : 'one project'}; per insert, means of ${ROUNDS} rounds (wall: median)`,
      );
      console.log(
        '| side | wall | client CPU | server CPU | WAL flushes | socket writes | socket reads | backends (mean count per sample) |',
      );
      console.log('|---|---|---|---|---|---|---|---|');
      for (const [side, stat] of stats) {
        const wall = [...stat.wall].sort((a, b) => a - b)[Math.floor(stat.wall.length / 2)]!;
        const waits = [...stat.waits]
          .sort((a, b) => b[1] - a[1])
          .map(([key, count]) => `${key} ${(count / stat.samples).toFixed(1)}`)
          .join(', ');
        console.log(
          `| ${side} | ${(wall * 1000).toFixed(0)} µs | ${((stat.client / ROUNDS) * 1000).toFixed(0)} µs | ${((stat.server / ROUNDS) * 1000).toFixed(0)} µs | ${(stat.flushes / ROUNDS).toFixed(2)} | ${(stat.writes / ROUNDS).toFixed(2)} | ${(stat.reads / ROUNDS).toFixed(2)} | ${waits} |`,
        );
      }
    }
  } finally {
    await admin.end();
    await raw.end();
    await idiomSql.end();
    await store.close();
    await database.drop();
    await server.stop();
  }
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
