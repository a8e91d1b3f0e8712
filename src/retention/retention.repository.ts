import { NO_TENANT_ID } from '../audit/audit-logs.schema.ts';
import { parseInput } from '../shared/validation.ts';
import type { ServiceScope } from '../store/scope.ts';
import {
  type ExportExpiredInput,
  exportExpiredSchema,
  RETENTION_TABLES,
  type RetentionTable,
  type RetentionWriter,
  retentionSettingsSchema,
} from './retention.contract.ts';

/** What one tenant's pass over one table exported and removed. */
export interface RetentionResult {
  tenantId: string;
  table: string;
  days: number;
  /** Rows older than this were due (ISO text with microseconds, as exported). */
  cutoff: string;
  exported: number;
  purged: number;
}

export interface RetentionReport {
  results: RetentionResult[];
  /** Tenants left alone because their retention setting is invalid (set before migration 9 checked it). */
  skipped: Array<{ tenantId: string; problem: string }>;
}

// Tenants are read this many at a time.
const TENANT_PAGE = 100;

interface ExportRow {
  row: string;
  occurred_at: string;
  id: string;
}

/** One table of one tenant: export a page, purge exactly its rows, until nothing is due. */
async function exportTable(
  tx: ServiceScope,
  tenantId: string,
  target: RetentionTable,
  days: number,
  write: RetentionWriter,
  pageSize: number,
): Promise<RetentionResult> {
  const [due] = await tx.query<{ cutoff: string }>(
    `SELECT to_jsonb(now() - make_interval(days => $1)) #>> '{}' AS cutoff`,
    [days],
  );
  const cutoff = due!.cutoff;
  const result: RetentionResult = { tenantId, table: target.table, days, cutoff, exported: 0, purged: 0 };
  // The table name is a library constant (RETENTION_TABLES), never input.
  const page = `SELECT to_jsonb(t)::text AS row, to_jsonb(t.occurred_at) #>> '{}' AS occurred_at, t.id::text AS id
                  FROM ${target.table} t
                 WHERE t.tenant_id = $1 AND t.occurred_at < $2::timestamptz
                 ORDER BY t.occurred_at, t.id LIMIT $3`;
  const prefix = `{"table":${JSON.stringify(target.table)},"tenantId":${JSON.stringify(tenantId)},"cutoff":${JSON.stringify(cutoff)},"row":`;
  for (;;) {
    const rows = await tx.query<ExportRow>(page, [tenantId, cutoff, pageSize]);
    if (rows.length === 0) return result;
    // Written out (and durable, the writer's promise) before anything is removed.
    await write(rows.map((r) => `${prefix}${r.row}}\n`).join(''));
    result.exported += rows.length;
    const keys = JSON.stringify(rows.map((r) => ({ occurred_at: r.occurred_at, id: r.id })));
    const [purge] = await tx.query<{ purged: string }>(
      'SELECT agentflow.purge_expired($1::regclass, $2, $3::timestamptz, $4::jsonb) AS purged',
      [target.table, tenantId, cutoff, keys],
    );
    const purged = Number(purge!.purged);
    result.purged += purged;
    // Each page starts again from the oldest due row. A page of which nothing went (its rows vanished
    // meanwhile, by a cascade) ends this pass rather than risk reading the same rows for ever.
    if (purged === 0 || rows.length < pageSize) return result;
  }
}

/** The rows of no tenant (NO_TENANT_ID: failed key checks of an unknown prefix), kept for the default. */
async function exportNoTenantRows(
  tx: ServiceScope,
  report: RetentionReport,
  write: RetentionWriter,
  pageSize: number,
): Promise<void> {
  for (const target of RETENTION_TABLES as readonly RetentionTable[]) {
    if (target.noTenantRows)
      report.results.push(await exportTable(tx, NO_TENANT_ID, target, target.defaultDays, write, pageSize));
  }
}

/** Cross-tenant retention, for operators (`agentflow db retention`). */
export const retentionRepository = {
  /**
   * For each tenant (or the one named), exports the rows of every table of RETENTION_TABLES older
   * than the tenant's retention setting as JSON lines through `write`, one page at a time, and
   * removes each page right after its lines were written: nothing is removed that was not written
   * out. Removal goes through agentflow.purge_expired, which writes an audit row per page (table,
   * count, cutoff). If the unit of work fails after a write, nothing was removed and the next run
   * exports those rows again: consumers deduplicate by (table, tenantId, row.id). Rows of no tenant
   * go in a full pass, or alone when `tenantId` is NO_TENANT_ID.
   */
  async exportExpired(tx: ServiceScope, input: ExportExpiredInput): Promise<RetentionReport> {
    const { write, tenantId, pageSize } = parseInput(exportExpiredSchema, input, 'retention export');
    const report: RetentionReport = { results: [], skipped: [] };
    if (tenantId === NO_TENANT_ID) {
      await exportNoTenantRows(tx, report, write, pageSize);
      return report;
    }
    let after: string | null = null;
    for (;;) {
      const tenants: Array<{ id: string; retention: unknown }> = await tx.query(
        `SELECT id, settings -> 'retention' AS retention FROM tenants
          WHERE ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR id > $2)
          ORDER BY id LIMIT $3`,
        [tenantId ?? null, after, TENANT_PAGE],
      );
      for (const tenant of tenants) {
        const settings = retentionSettingsSchema.safeParse(tenant.retention ?? {});
        if (!settings.success) {
          const problem = settings.error.issues
            .map((issue) => `retention.${issue.path.join('.')}: ${issue.message}`)
            .join('; ');
          report.skipped.push({ tenantId: tenant.id, problem });
          continue;
        }
        for (const target of RETENTION_TABLES) {
          const days = settings.data[target.setting] ?? target.defaultDays;
          report.results.push(await exportTable(tx, tenant.id, target, days, write, pageSize));
        }
      }
      if (tenants.length < TENANT_PAGE) break;
      after = tenants.at(-1)!.id;
    }
    if (tenantId === undefined) await exportNoTenantRows(tx, report, write, pageSize);
    return report;
  },
};
