/**
 * The task graph and the work queue on the server engine (PostgreSQL at DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; the bench creates its own database bench_tasks there
 * and drops it at the end).
 *
 * Data: a large tenant of 10,000 tasks (10 projects of 1,000) with ~30,000 dependency edges, a small
 * tenant of 1,000 tasks (1 project) with ~3,000 edges, a queue tenant with 2,000 ready tasks and 20
 * agents, and filler tenants of 10,000 tasks and ~30,000 edges each, ~1,000,000 tasks over 100
 * tenants in all. In each project the first 30% of tasks are completed; task k depends on k-1-(k%3),
 * k-4-(k%5) and k-9-(k%11) (k ≥ 19), so chains run the length of the project. Loaded by the owner
 * with INSERT … SELECT generate_series, triggers and foreign-key checks off (session_replication_role
 * = replica; the rows are built valid and acyclic), then ANALYZEd.
 *
 * Measured through the repositories as the app role, p50 / p95, on the large and the small tenant,
 * and the ratio of the p50s (target ≤ 2: each answer has the same size in both):
 * - transitive dependencies 10 levels deep of the last task of a project;
 * - ready tasks of a project (first page of 100);
 * - critical path of a project;
 * - next-task claim (an organization agent, in a project; each claim rolled back so all samples
 *   do the same work).
 * Then claim throughput: 20 agents, each on its own store (connection), claiming until the queue
 * is empty; claims/s, and every task claimed exactly once.
 *
 *   npx tsx bench/tasks-bench.ts            # full: ~1,000,000 tasks
 *   npx tsx bench/tasks-bench.ts --scale=0.05  # quick: 5% of the filler tenants, fewer samples
 */
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import { openStore, type Store, type TenantContext } from '../src/index.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_tasks';
const scaleArg = process.argv.find((arg) => arg.startsWith('--scale='));
const SCALE = scaleArg ? Number(scaleArg.slice('--scale='.length)) : 1;
const FILLER_TENANTS = Math.max(0, Math.round(97 * SCALE));
const SAMPLES = SCALE >= 1 ? 200 : 40;
const AGENTS = 20;
const QUEUE_TASKS = 2000;
const TASKS_PER_PROJECT = 1000;

const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface BenchTenant {
  context: TenantContext;
  projects: string[];
  agents: string[];
}

class Rollback extends Error {}

async function createTenant(store: Store, slug: string, agents: number): Promise<BenchTenant> {
  return store.asService({ actor: 'bench' }, async (svc) => {
    const tenant = await svc.tenants.create({ slug, name: slug, status: 'active' });
    const owner = await svc.users.create({ email: `owner@${slug}.test`, name: `Owner ${slug}` });
    await svc.memberships.create(tenant.id, { userId: owner.id, role: 'owner' });
    const ids: string[] = [];
    for (let i = 0; i < agents; i++)
      ids.push(
        (
          await svc.agents.create(tenant.id, {
            code: `${slug}-a${i}`,
            name: `${slug} agent ${i}`,
            type: 'backend_dev',
            roleTitle: 'Engineer',
            projectId: null,
          })
        ).id,
      );
    return {
      context: { tenantId: tenant.id, actor: { type: 'user', id: owner.id } },
      projects: [],
      agents: ids,
    };
  });
}

/** `count` projects of `tasks` tasks each, with the dependency pattern above (`edges` false: none, all ready). */
async function load(
  owner: Postgres.Sql,
  tenant: BenchTenant,
  count: number,
  tasks: number,
  edges: boolean,
): Promise<void> {
  await owner.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    const projects = await tx<{ id: string }[]>`
      INSERT INTO projects (tenant_id, slug, name)
      SELECT ${tenant.context.tenantId}::uuid, 'p' || n, 'Project ' || n FROM generate_series(1, ${count}::int) n
      RETURNING id`;
    tenant.projects = projects.map((p) => p.id);
    const completed = edges ? Math.floor(tasks * 0.3) : 0;
    await tx`
      INSERT INTO tasks (tenant_id, id, project_id, title, status, priority, deadline, estimate_hours,
                         created_at, updated_at, started_at, completed_at)
      SELECT p.tenant_id, bench_id(p.id, k), p.id, 'task ' || k,
             CASE WHEN k < ${completed}::int THEN 'completed' ELSE 'backlog' END,
             'P' || (k % 4),
             CASE WHEN k % 3 = 0 THEN now() + k * interval '1 hour' END,
             CASE WHEN k % 2 = 0 THEN (k % 7 + 1)::numeric END,
             now() - (${tasks}::int - k) * interval '1 second', now(),
             CASE WHEN k < ${completed}::int THEN now() END, CASE WHEN k < ${completed}::int THEN now() END
        FROM projects p, generate_series(0, ${tasks}::int - 1) k
       WHERE p.tenant_id = ${tenant.context.tenantId}::uuid`;
    if (edges)
      await tx`
        INSERT INTO task_dependencies (tenant_id, task_id, depends_on_id, project_id)
        SELECT p.tenant_id, bench_id(p.id, k), bench_id(p.id, k - o.step), p.id
          FROM projects p, generate_series(19, ${tasks}::int - 1) k,
               LATERAL (VALUES (1 + k % 3), (4 + k % 5), (9 + k % 11)) AS o(step)
         WHERE p.tenant_id = ${tenant.context.tenantId}::uuid`;
  });
}

async function sample(op: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await op();
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = process.hrtime.bigint();
    await op();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

async function main(): Promise<boolean> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = databaseUrl(DATABASE);
  const report = (line: string) => process.stdout.write(`${line}\n`);
  let missed = false;
  let store: Store | undefined;
  let owner: Postgres.Sql | undefined;
  const others: Store[] = [];
  try {
    store = await openStore({ url, migrate: true, postgres: { max: 4 } });
    owner = postgres(url, { max: 4, onnotice: () => {} });
    const started = Date.now();
    // Task ids derived from (project, k), shaped as version-4 UUIDs (the contracts check the version).
    await owner.unsafe(`CREATE FUNCTION bench_id(project uuid, k integer) RETURNS uuid IMMUTABLE LANGUAGE sql
      AS $$ SELECT overlay(overlay(md5(project::text || k) placing '4' from 13) placing '8' from 17)::uuid $$`);
    const big = await createTenant(store, 'big', 1);
    const small = await createTenant(store, 'small', 1);
    const queue = await createTenant(store, 'queue', AGENTS);
    await load(owner, big, 10, TASKS_PER_PROJECT, true);
    await load(owner, small, 1, TASKS_PER_PROJECT, true);
    await load(owner, queue, 1, QUEUE_TASKS, false);
    for (let i = 0; i < FILLER_TENANTS; i++) {
      const filler = await createTenant(store, `filler-${i}`, 0);
      await load(owner, filler, 10, TASKS_PER_PROJECT, true);
    }
    await owner`VACUUM ANALYZE tasks, task_dependencies`;
    const [counts] = await owner<{ tasks: number; edges: number; tenants: number }[]>`
      SELECT (SELECT count(*) FROM tasks)::int AS tasks, (SELECT count(*) FROM task_dependencies)::int AS edges,
             (SELECT count(*) FROM tenants)::int AS tenants`;
    const [bigEdges] = await owner<{ n: number }[]>`
      SELECT count(*)::int AS n FROM task_dependencies WHERE tenant_id = ${big.context.tenantId}::uuid`;
    report(
      `loaded ${counts!.tasks} tasks, ${counts!.edges} edges, ${counts!.tenants} tenants in ${((Date.now() - started) / 1000).toFixed(0)} s; large tenant: 10,000 tasks, ${bigEdges!.n} edges`,
    );

    const lastTask = (tenant: BenchTenant) =>
      owner!<
        { id: string }[]
      >`SELECT bench_id(${tenant.projects[0]!}::uuid, ${TASKS_PER_PROJECT - 1}::int)::text AS id`;
    const results: Array<[string, { p50: number; p95: number }, { p50: number; p95: number }, number]> = [];
    const measure = async (name: string, op: (tenant: BenchTenant, taskId: string) => Promise<number>) => {
      const sizes: number[] = [];
      const run = async (tenant: BenchTenant) => {
        const [task] = await lastTask(tenant);
        return sample(async () => sizes.push(await op(tenant, task!.id)));
      };
      const large = await run(big);
      const little = await run(small);
      results.push([name, large, little, sizes[sizes.length - 1]!]);
    };
    await measure('transitive dependencies, 10 levels', (tenant, taskId) =>
      store!.withTenant(
        tenant.context,
        async (tx) =>
          (await tx.taskDependencies.dependencies(taskId, { maxDepth: 10, limit: 1000 })).items.length,
      ),
    );
    await measure('ready tasks of a project (page of 100)', (tenant) =>
      store!.withTenant(
        tenant.context,
        async (tx) =>
          (await tx.taskDependencies.readyTasks({ projectId: tenant.projects[0]!, limit: 100 })).items.length,
      ),
    );
    await measure('critical path of a project', (tenant) =>
      store!.withTenant(
        tenant.context,
        async (tx) => (await tx.taskDependencies.criticalPath(tenant.projects[0]!)).tasks.length,
      ),
    );
    await measure('next-task claim (rolled back)', async (tenant) => {
      let size = 0;
      // As the agent: migration 13's task_assigned event takes the acting agent as its author.
      const asAgent: TenantContext = {
        tenantId: tenant.context.tenantId,
        actor: { type: 'agent', id: tenant.agents[0]! },
      };
      await store!
        .withTenant(asAgent, async (tx) => {
          size = (await tx.taskQueue.claim(tenant.agents[0]!, { projectId: tenant.projects[0]! })) ? 1 : 0;
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      return size;
    });
    report('');
    report('| query | large p50 ms | large p95 ms | small p50 ms | small p95 ms | p50 ratio | answer rows |');
    report('|---|---|---|---|---|---|---|');
    for (const [name, large, little, size] of results) {
      const ratio = large.p50 / little.p50;
      if (ratio > 2) missed = true;
      report(
        `| ${name} | ${large.p50.toFixed(2)} | ${large.p95.toFixed(2)} | ${little.p50.toFixed(2)} | ${little.p95.toFixed(2)} | ${ratio.toFixed(2)} ${ratio <= 2 ? 'ok' : 'MISSED'} | ${size} |`,
      );
    }

    // Claim throughput: 20 agents, each with its own store, until the queue is empty.
    for (let i = 0; i < AGENTS; i++) others.push(await openStore({ url, postgres: { max: 1 } }));
    const claimed: string[] = [];
    const throughputStart = process.hrtime.bigint();
    await Promise.all(
      others.map(async (agentStore, i) => {
        const agentId = queue.agents[i]!;
        const context: TenantContext = {
          tenantId: queue.context.tenantId,
          actor: { type: 'agent', id: agentId },
        };
        for (;;) {
          const task = await agentStore.withTenant(context, (tx) => tx.taskQueue.claim(agentId));
          if (!task) return;
          claimed.push(task.id);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - throughputStart) / 1e9;
    const distinct = new Set(claimed).size;
    const [stored] = await owner<{ n: number }[]>`
      SELECT count(*)::int AS n FROM tasks WHERE tenant_id = ${queue.context.tenantId}::uuid
         AND status = 'in_progress' AND assignee_agent_id IS NOT NULL`;
    const exact = claimed.length === QUEUE_TASKS && distinct === QUEUE_TASKS && stored!.n === QUEUE_TASKS;
    if (!exact) missed = true;
    report('');
    report(
      `claim throughput, ${AGENTS} agents: ${claimed.length} claims in ${seconds.toFixed(2)} s = ${(claimed.length / seconds).toFixed(0)} claims/s; ` +
        `${claimed.length - distinct} double claims, ${QUEUE_TASKS - stored!.n} lost: ${exact ? 'ok' : 'MISSED'}`,
    );
  } finally {
    await Promise.all(others.map((other) => other.close()));
    await store?.close();
    await owner?.end();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
  return missed;
}

process.exitCode = (await main()) ? 1 : 0;
