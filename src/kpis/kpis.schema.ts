import { sql } from 'drizzle-orm';
import { check, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys } from '../shared/columns.ts';

/** The core metrics of seed 002 whose higher value is better (the trend's "better" direction). */
export const KPI_HIGHER_IS_BETTER = [
  'tasksCompleted',
  'codeQualityScore',
  'positiveFeedbackCount',
  'featureCompletionRate',
] as const;
/** The core metrics whose lower value is better: fewer bugs is improving. */
export const KPI_LOWER_IS_BETTER = [
  'bugsIntroduced',
  'deploymentFailures',
  'codeChurn',
  'averageTaskDuration',
] as const;
export type KpiCoreMetric = (typeof KPI_HIGHER_IS_BETTER)[number] | (typeof KPI_LOWER_IS_BETTER)[number];

/** What a record's metrics hold: each core metric only when it was measured, and custom numbers. */
export type KpiMetrics = Partial<Record<KpiCoreMetric, number>> & {
  customMetrics?: Record<string, number>;
};

export type KpiDirection = 'up' | 'down' | 'stable';
export type KpiOverallTrend = 'improving' | 'declining' | 'stable';

/**
 * A record's trend against the agent's previous record, computed by the database when the record
 * is written (agentflow.kpi_trend, migration 9): per metric present in both, and overall (null on
 * an agent's first record, whose previousId is null too).
 */
export interface KpiTrend {
  previousId: string | null;
  metrics: Partial<Record<KpiCoreMetric, KpiDirection>>;
  customMetrics: Record<string, KpiDirection>;
  overall: KpiOverallTrend | null;
}

/** An agent's KPI history: one row per (agent, recorded_at), added and never changed. */
export const kpis = pgTable(
  'kpis',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    agentId: uuid('agent_id').notNull(),
    // No default in the column: the database stamps a record given none once it holds the agent's lock.
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
    metrics: jsonb('metrics').$type<KpiMetrics>().notNull(),
    trend: jsonb('trend').$type<KpiTrend>().notNull().default(sql`'{}'`),
    changeReason: text('change_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    ...tenantKeys(table, { agent: [table.agentId, agents] }),
    unique('kpis_agent_recorded_key').on(table.tenantId, table.agentId, table.recordedAt),
    check('kpis_metrics_check', sql`agentflow.kpi_metrics_valid(${table.metrics})`),
    check('kpis_trend_check', sql`jsonb_typeof(${table.trend}) = 'object'`),
    check('kpis_change_reason_check', sql`char_length(${table.changeReason}) BETWEEN 1 AND 500`),
  ],
);

export type Kpi = typeof kpis.$inferSelect;
