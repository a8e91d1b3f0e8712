/**
 * Wiki search: ranked full-text search (`tx.wiki.search`) for one tenant among 10,000 and then
 * 100,000 wiki versions over 100 tenants, on the server (DATABASE_URL, else 127.0.0.1:5432: it
 * creates and drops its own database `bench_wiki`).
 *
 * Each tenant's entries have two approved versions (the second current), so half the versions are
 * superseded and never found. Versions are loaded with generate_series as the owner (the triggers
 * still run: wiki_pages follows each approval, a wiki_contribution event is written per version),
 * then VACUUM ANALYZE, as autovacuum would. Content is 30 words of a 2,000-word vocabulary (`w0` …
 * `w1999`), titles 3 words. Queries run as an organization agent of the bench tenant, read-only
 * units, 300 each after 30 of warm-up: p50 and p95, and the ratio of the p50 at 100,000 to the p50
 * at 10,000 (target ≤ 2). Exits non-zero when the main query misses it.
 *
 *   npx tsx bench/wiki-bench.ts
 */
import type Postgres from 'postgres';
import { postgres } from '../src/engine/postgres-driver.ts';
import { openStore, type Store, type TenantContext } from '../src/index.ts';
import { plansAsApp } from './plans-as-app.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'bench_wiki';
const TENANTS = 100;
const WARMUP = 30;
const RUNS = 300;
const QUERIES = {
  'one word (w17)': 'w17',
  'two words (w17 w42)': 'w17 w42',
  'either word (w17 or w42)': 'w17 or w42',
  'title phrase ("w5 w6")': '"w5 w6"',
};
const MAIN_QUERY = 'one word (w17)';

const percentile = (values: number[], p: number) =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

/** Adds entries `from` … `to` (1-based, per tenant) to every tenant: two approved versions each. */
async function load(url: string, from: number, to: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const words = (seed: string, count: number) =>
      `(SELECT string_agg('w' || (abs(hashtext(${seed} || '-' || i)) % 2000), ' ') FROM generate_series(1, ${count}) i)`;
    await sql.unsafe(
      `WITH fresh AS (
         SELECT t.id AS tenant_id, t.slug AS tenant_slug, a.id AS agent_id, n, gen_random_uuid() AS id
           FROM tenants t
           JOIN agents a ON a.tenant_id = t.id AND a.code = 'lead'
          CROSS JOIN generate_series($1::int, $2::int) n)
       INSERT INTO wiki_entries (tenant_id, id, entry_id, version, proposed_by_agent_id, status, title, slug, content, decided_at)
       SELECT f.tenant_id, f.id, f.id, 1, f.agent_id, 'approved',
              'Entry ' || f.n || ' ' || ${words("f.tenant_slug || f.n || 't1'", 3)}, 'entry-' || f.n,
              ${words("f.tenant_slug || f.n || 'c1'", 30)}, now()
         FROM fresh f`,
      [from, to],
    );
    await sql.unsafe(
      `INSERT INTO wiki_entries (tenant_id, entry_id, version, parent_version_id, proposed_by_agent_id, status,
                                 title, slug, content, decided_at)
       SELECT v.tenant_id, v.id, 2, v.id, v.proposed_by_agent_id, 'approved',
              v.title, v.slug, ${words("v.tenant_id::text || v.slug || 'c2'", 30)}, now()
         FROM wiki_entries v
        WHERE v.version = 1 AND substr(v.slug, 7)::int BETWEEN $1 AND $2`,
      [from, to],
    );
    await sql.unsafe('VACUUM ANALYZE wiki_entries');
    await sql.unsafe('VACUUM ANALYZE wiki_pages');
  } finally {
    await sql.end();
  }
}

async function measure(store: Store, context: TenantContext) {
  const results: Record<string, { p50: number; p95: number; hits: number }> = {};
  for (const [name, query] of Object.entries(QUERIES)) {
    const run = () =>
      store.withTenant(context, (tx) => tx.wiki.search({ query, limit: 20 }), { readOnly: true });
    for (let i = 0; i < WARMUP; i++) await run();
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < RUNS; i++) {
      const started = process.hrtime.bigint();
      hits = (await run()).items.length;
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    results[name] = { p50: percentile(times, 0.5), p95: percentile(times, 0.95), hits };
  }
  return results;
}

async function main(): Promise<void> {
  const admin: Postgres.Sql = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  let failed = false;
  try {
    const store = await openStore({ url: url.toString(), migrate: true, postgres: { max: 4 } });
    try {
      const context = await store.asService({ actor: 'bench' }, async (svc) => {
        const tenant = await svc.tenants.create({ slug: 'bench', name: 'Bench', status: 'active' });
        return tenant.id;
      });
      const setup = postgres(url.toString(), { max: 1, onnotice: () => {} });
      await setup.unsafe(
        `INSERT INTO tenants (slug, name, status) SELECT 'wiki-' || n, 'Wiki ' || n, 'active' FROM generate_series(1, ${TENANTS - 1}) n`,
      );
      await setup.unsafe(
        `INSERT INTO agents (tenant_id, level, type, code, name, role_title)
         SELECT id, 'organization', 'orchestrator', 'lead', 'Lead', 'Tech lead' FROM tenants`,
      );
      const [lead] = await setup.unsafe<{ id: string }[]>(
        `SELECT id FROM agents WHERE tenant_id = $1 AND code = 'lead'`,
        [context],
      );
      await setup.end();
      const asLead: TenantContext = { tenantId: context, actor: { type: 'agent', id: lead!.id } };

      // 10,000 versions: 50 entries × 2 versions × 100 tenants.
      let started = Date.now();
      await load(url.toString(), 1, 50);
      const loadSmall = (Date.now() - started) / 1000;
      const small = await measure(store, asLead);
      // 100,000: 500 entries × 2 versions × 100 tenants.
      started = Date.now();
      await load(url.toString(), 51, 500);
      const loadLarge = (Date.now() - started) / 1000;
      const large = await measure(store, asLead);
      const explained = await plansAsApp(
        url.toString(),
        { tenant_id: context, actor_type: 'agent', actor_id: lead!.id },
        [
          `SELECT v.id FROM wiki_entries v JOIN wiki_pages p ON p.tenant_id = v.tenant_id AND p.current_version_id = v.id
            WHERE v.status = 'approved' AND v.search @@ websearch_to_tsquery('english', 'w17')`,
          `SELECT * FROM agentflow.search_wiki('w17', NULL, NULL, NULL, NULL, NULL, 21)`,
        ],
      );

      const ms = (value: number) => `${value.toFixed(2)} ms`;
      console.log(
        `server: ${url.host}; ${TENANTS} tenants; ${RUNS} searches per query after ${WARMUP} of warm-up`,
      );
      console.log(
        `load: 10,000 versions in ${loadSmall.toFixed(1)} s, 90,000 more in ${loadLarge.toFixed(1)} s\n`,
      );
      console.log('| query | hits | p50 at 10k | p95 at 10k | p50 at 100k | p95 at 100k | p50 ratio |');
      console.log('|---|---|---|---|---|---|---|');
      for (const name of Object.keys(QUERIES)) {
        const s = small[name]!;
        const l = large[name]!;
        const ratio = l.p50 / s.p50;
        if (name === MAIN_QUERY && ratio > 2) failed = true;
        console.log(
          `| ${name} | ${s.hits} → ${l.hits} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(l.p50)} | ${ms(l.p95)} | ${ratio.toFixed(2)}× |`,
        );
      }
      console.log(
        `\nplans as agentflow_app: plain SQL (the policies keep @@ off the index), then through the definer function:\n  ${explained.join('\n  ')}`,
      );
    } finally {
      await store.close();
    }
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
  if (failed) {
    console.error(`\nthe p50 of "${MAIN_QUERY}" at 100,000 versions is more than 2× the one at 10,000`);
    process.exit(1);
  }
}

await main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
