import type { Store } from '../store/store.ts';
import type { VerifyReport } from '../verify/verify-database.ts';

export interface TenantCounts {
  slug: string;
  status: string;
  rows: Record<string, number>;
  /** What the tenant's model runs cost, US dollars as exact decimal text, and their tokens. */
  spend: { costUsd: string; tokens: string };
  knowledge: KnowledgeCounts;
}

/** What a tenant's staff has learned: live lessons, reviews, patterns, wiki entries and evidence. */
export interface KnowledgeCounts {
  lessons: number;
  selfReviews: number;
  patterns: number;
  /** Entries with an approved current version, and versions waiting for a human's decision. */
  wikiApproved: number;
  wikiPending: number;
  evidence: number;
}

const NO_KNOWLEDGE: KnowledgeCounts = {
  lessons: 0,
  selfReviews: 0,
  patterns: 0,
  wikiApproved: 0,
  wikiPending: 0,
  evidence: 0,
};

export interface IsolationProbe {
  ok: boolean;
  detail: string;
}

export interface StatusReport {
  engine: string;
  location: string;
  schemaVersion: number;
  latestVersion: number;
  tables: string[];
  tenants: TenantCounts[];
  users: number;
  verify: VerifyReport;
  probe: IsolationProbe;
}

/** A catalog name as a quoted identifier. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Looks, as each tenant in turn, for rows of any other tenant, and as the app role with no
 * tenant for any row at all. Both must find nothing.
 */
async function probeIsolation(
  store: Store,
  tenants: Array<{ id: string; slug: string }>,
  scopedTables: string[],
): Promise<IsolationProbe> {
  // A user actor: an agent actor must be a live agent of the tenant, and the probe writes nothing.
  const probeActor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000000' };
  for (const tenant of tenants) {
    const foreign = await store.withTenant({ tenantId: tenant.id, actor: probeActor }, async (tx) => {
      let count = 0;
      for (const table of scopedTables) {
        const [row] = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${quoted(table)} WHERE tenant_id IS DISTINCT FROM $1`,
          [tenant.id],
        );
        count += row?.n ?? 0;
      }
      return count;
    });
    if (foreign > 0)
      return { ok: false, detail: `tenant ${tenant.slug} can see ${foreign} rows of other tenants` };
  }
  const unscoped = await store.asAppWithoutTenant(async (connection) => {
    let count = 0;
    for (const table of ['tenants', 'users', ...scopedTables]) {
      const [row] = await connection.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(table)}`);
      count += row?.n ?? 0;
    }
    return count;
  });
  if (unscoped > 0) return { ok: false, detail: `with no tenant set the app role sees ${unscoped} rows` };
  return {
    ok: true,
    detail: `${tenants.length} tenant(s) each saw 0 rows of the others; no tenant set saw 0 rows`,
  };
}

export async function buildStatusReport(store: Store): Promise<StatusReport> {
  const status = await store.migrator.status();
  const verify = await store.verify();
  const { tables, scopedTables, tenants, users } = await store.asService(
    { actor: 'cli:status' },
    async (svc) => {
      // Every table, and those carrying tenant_id: a table added later is counted and probed too.
      const tableRows = await svc.query<{ name: string; scoped: boolean }>(
        `SELECT c.relname AS name,
              EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                         AND NOT a.attisdropped) AS scoped
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
      );
      const scoped = tableRows.filter((t) => t.scoped).map((t) => t.name);
      const tenantRows = await svc.query<{ id: string; slug: string; status: string }>(
        'SELECT id, slug, status FROM tenants ORDER BY slug',
      );
      const counts = new Map<string, Record<string, number>>(tenantRows.map((t) => [t.id, {}]));
      for (const table of scoped) {
        const rows = await svc.query<{ tenant_id: string; n: number }>(
          `SELECT tenant_id, count(*)::int AS n FROM ${quoted(table)} GROUP BY tenant_id`,
        );
        // Audit rows of no tenant (NO_TENANT_ID) match no tenant and are left out.
        for (const row of rows) {
          const entry = counts.get(row.tenant_id);
          if (entry) entry[table] = row.n;
        }
      }
      const spendRows = await svc.query<{ tenant_id: string; cost_usd: string; tokens: string }>(
        `SELECT tenant_id, cost_usd::text AS cost_usd,
                (input_tokens + output_tokens + cached_tokens + reasoning_tokens)::text AS tokens
           FROM tenant_execution_totals`,
      );
      const spend = new Map(
        spendRows.map((row) => [row.tenant_id, { costUsd: row.cost_usd, tokens: row.tokens }]),
      );
      // Row counts above count every version and deleted lesson; these count what readers see.
      const knowledgeRows = await svc.query<KnowledgeCounts & { tenantId: string }>(
        `SELECT t.id AS "tenantId",
                (SELECT count(*)::int FROM lessons l WHERE l.tenant_id = t.id AND l.deleted_at IS NULL) AS lessons,
                (SELECT count(*)::int FROM self_reviews r WHERE r.tenant_id = t.id) AS "selfReviews",
                (SELECT count(*)::int FROM patterns p WHERE p.tenant_id = t.id) AS patterns,
                (SELECT count(*)::int FROM wiki_pages w WHERE w.tenant_id = t.id) AS "wikiApproved",
                (SELECT count(*)::int FROM wiki_entries w
                  WHERE w.tenant_id = t.id AND w.status = 'pending_approval') AS "wikiPending",
                (SELECT count(*)::int FROM evidence e WHERE e.tenant_id = t.id) AS evidence
           FROM tenants t`,
      );
      const knowledge = new Map(knowledgeRows.map(({ tenantId, ...counts }) => [tenantId, counts]));
      const [userRow] = await svc.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM users WHERE deleted_at IS NULL',
      );
      return {
        tables: tableRows.map((t) => t.name),
        scopedTables: scoped,
        tenants: tenantRows.map((t) => ({
          id: t.id,
          slug: t.slug,
          status: t.status,
          rows: counts.get(t.id) ?? {},
          spend: spend.get(t.id) ?? { costUsd: '0.000000', tokens: '0' },
          knowledge: knowledge.get(t.id) ?? NO_KNOWLEDGE,
        })),
        users: userRow?.n ?? 0,
      };
    },
  );
  const probe = await probeIsolation(store, tenants, scopedTables);
  return {
    engine: store.engine.kind,
    location: store.engine.location,
    schemaVersion: status.current,
    latestVersion: status.latest,
    tables,
    tenants: tenants.map(({ slug, status: tenantStatus, rows, spend, knowledge }) => ({
      slug,
      status: tenantStatus,
      rows,
      spend,
      knowledge,
    })),
    users,
    verify,
    probe,
  };
}

export function formatVerifyReport(report: VerifyReport): string {
  return report.checks
    .map((check) =>
      check.problems.length === 0
        ? `  ok    ${check.name}`
        : [`  FAIL  ${check.name}`, ...check.problems.map((p) => `          - ${p}`)].join('\n'),
    )
    .join('\n');
}

export function formatStatusReport(report: StatusReport): string {
  const lines = [
    `engine          ${report.engine} (${report.location})`,
    `schema version  ${report.schemaVersion} of ${report.latestVersion}`,
    `tables          ${report.tables.length}: ${report.tables.join(', ')}`,
    `users           ${report.users}`,
    `tenants         ${report.tenants.length}`,
  ];
  for (const tenant of report.tenants) {
    const counts = Object.entries(tenant.rows)
      .map(([table, n]) => `${table}=${n}`)
      .join(' ');
    lines.push(`  ${tenant.slug.padEnd(24)} ${tenant.status.padEnd(9)} ${counts}`);
    lines.push(`  ${''.padEnd(24)} spend     $${tenant.spend.costUsd} over ${tenant.spend.tokens} tokens`);
    const k = tenant.knowledge;
    lines.push(
      `  ${''.padEnd(24)} knowledge ${k.lessons} lessons, ${k.selfReviews} self-reviews, ${k.patterns} patterns, wiki ${k.wikiApproved} approved / ${k.wikiPending} pending, ${k.evidence} evidence`,
    );
  }
  lines.push(`isolation       ${report.verify.ok && report.probe.ok ? 'OK' : 'FAILED'}`);
  lines.push(formatVerifyReport(report.verify));
  lines.push(`  ${report.probe.ok ? 'ok  ' : 'FAIL'}  live probe: ${report.probe.detail}`);
  return lines.join('\n');
}
