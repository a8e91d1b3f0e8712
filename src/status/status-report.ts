import type { Store } from '../store/store.ts';
import type { VerifyReport } from '../verify/verify-database.ts';

export interface TenantCounts {
  slug: string;
  status: string;
  rows: Record<string, number>;
}

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

const COUNTED_TABLES = ['memberships', 'projects', 'project_files', 'agent_states', 'audit_logs'] as const;

/**
 * Looks, as each tenant in turn, for rows of any other tenant, and as the app role with no
 * tenant for any row at all. Both must find nothing.
 */
async function probeIsolation(
  store: Store,
  tenants: Array<{ id: string; slug: string }>,
): Promise<IsolationProbe> {
  const probeActor = { type: 'agent' as const, id: '00000000-0000-4000-8000-000000000000' };
  for (const tenant of tenants) {
    const foreign = await store.withTenant({ tenantId: tenant.id, actor: probeActor }, async (tx) => {
      let count = 0;
      for (const table of COUNTED_TABLES) {
        const [row] = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id IS DISTINCT FROM $1`,
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
    const [row] = await connection.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM projects) + (SELECT count(*) FROM users) AS n`,
    );
    return Number(row?.n ?? 0);
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
  const { tables, tenants, users } = await store.asService({ actor: 'cli:status' }, async (svc) => {
    const tableRows = await svc.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    const tenantRows = await svc.query<{ id: string; slug: string; status: string }>(
      'SELECT id, slug, status FROM tenants ORDER BY slug',
    );
    const counts = new Map<string, Record<string, number>>(tenantRows.map((t) => [t.id, {}]));
    for (const table of COUNTED_TABLES) {
      const rows = await svc.query<{ tenant_id: string; n: number }>(
        `SELECT tenant_id, count(*)::int AS n FROM ${table} WHERE tenant_id IS NOT NULL GROUP BY tenant_id`,
      );
      for (const row of rows) {
        const entry = counts.get(row.tenant_id);
        if (entry) entry[table] = row.n;
      }
    }
    const [userRow] = await svc.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM users WHERE deleted_at IS NULL',
    );
    return {
      tables: tableRows.map((t) => t.name),
      tenants: tenantRows.map((t) => ({
        id: t.id,
        slug: t.slug,
        status: t.status,
        rows: counts.get(t.id) ?? {},
      })),
      users: userRow?.n ?? 0,
    };
  });
  const probe = await probeIsolation(store, tenants);
  return {
    engine: store.engine.kind,
    location: store.engine.location,
    schemaVersion: status.current,
    latestVersion: status.latest,
    tables,
    tenants: tenants.map(({ slug, status: tenantStatus, rows }) => ({ slug, status: tenantStatus, rows })),
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
    const counts = COUNTED_TABLES.map((table) => `${table}=${tenant.rows[table] ?? 0}`).join(' ');
    lines.push(`  ${tenant.slug.padEnd(24)} ${tenant.status.padEnd(9)} ${counts}`);
  }
  lines.push(`isolation       ${report.verify.ok && report.probe.ok ? 'OK' : 'FAILED'}`);
  lines.push(formatVerifyReport(report.verify));
  lines.push(`  ${report.probe.ok ? 'ok  ' : 'FAIL'}  live probe: ${report.probe.detail}`);
  return lines.join('\n');
}
