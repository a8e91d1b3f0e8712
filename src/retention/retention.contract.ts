import { z } from 'zod';
import { uuidSchema } from '../shared/validation.ts';

/**
 * A table kept under retention: rows older than a tenant's `settings.retention[setting]` days
 * (else `defaultDays`) are exported, then removed. The table must be keyed (tenant_id,
 * occurred_at, id) and guarded like events (agentflow.keep_append_only, migration 7: only its owner deletes),
 * which is what agentflow.purge_expired (migration 9) accepts. Adding a table is one more entry.
 */
export interface RetentionTable {
  readonly table: string;
  /** Its key in `settings.retention`, a whole number of days. */
  readonly setting: string;
  readonly defaultDays: number;
  /** Whether the table also holds rows of no tenant (NO_TENANT_ID), kept for `defaultDays`. */
  readonly noTenantRows?: boolean;
}

export const RETENTION_TABLES = [
  { table: 'events', setting: 'eventsDays', defaultDays: 365 },
  // The API-key usage log. Failed attempts with an unknown prefix belong to no tenant (NO_TENANT_ID):
  // they expire after the default.
  { table: 'agent_credential_uses', setting: 'credentialUsesDays', defaultDays: 90, noTenantRows: true },
] as const satisfies readonly RetentionTable[];

/** Days a retention setting may hold; the database refuses anything else in settings.retention (migration 9). */
const retentionDays = z.number().int().min(1).max(36_500);

/** A tenant's `settings.retention`: days per table, each optional (its table's default applies). */
export const retentionSettingsSchema = z.strictObject(
  Object.fromEntries(RETENTION_TABLES.map((t) => [t.setting, retentionDays.optional()])) as Record<
    (typeof RETENTION_TABLES)[number]['setting'],
    z.ZodOptional<typeof retentionDays>
  >,
);
export type RetentionSettings = z.output<typeof retentionSettingsSchema>;

/**
 * Receives the exported rows as JSON lines, one page at a time; it must resolve only once the lines
 * are durable (written and synced), because the rows are removed right after.
 */
export type RetentionWriter = (lines: string) => Promise<void>;

/** Input of `retention.exportExpired` (service role). */
export const exportExpiredSchema = z.strictObject({
  write: z.custom<RetentionWriter>((value) => typeof value === 'function', 'must be a function'),
  /** Only this tenant; by default every tenant, in this one unit of work. */
  tenantId: uuidSchema.optional(),
  /** Rows read, written and removed at a time. */
  pageSize: z.number().int().min(1).max(10_000).default(1000),
});
export type ExportExpiredInput = z.input<typeof exportExpiredSchema>;
