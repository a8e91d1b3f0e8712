import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

const count = z.number().int().min(0).max(1_000_000_000);
const CUSTOM_METRIC_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const customMetricValue = z.number().min(-1e15).max(1e15);

/**
 * Custom metrics, checked key by key on the object as given and returned as is: z.record would drop
 * a `__proto__` key without a word, so it is refused here instead.
 */
const customMetricsSchema = z.custom<Record<string, number>>().check((payload) => {
  const value = payload.value;
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    payload.issues.push({ code: 'custom', input: value, message: 'must be an object of numbers' });
    return;
  }
  const names = Object.keys(value);
  if (names.length > 100)
    payload.issues.push({ code: 'custom', input: value, message: 'must hold at most 100 custom metrics' });
  for (const name of names) {
    if (!CUSTOM_METRIC_NAME.test(name) || name === '__proto__')
      payload.issues.push({
        code: 'custom',
        input: name,
        path: [name],
        message: 'a name of 1–100 letters, digits, _ . - (not __proto__)',
      });
    else if (!customMetricValue.safeParse((value as Record<string, unknown>)[name]).success)
      payload.issues.push({
        code: 'custom',
        input: name,
        path: [name],
        message: 'must be a finite number within ±1e15',
      });
  }
});

/**
 * A KPI record's metrics (seed 002), each core metric optional: one not measured is absent, never
 * 0, so it neither moves a trend nor the trust score. At least one metric. The database checks the
 * same (agentflow.kpi_metrics_valid, migration 9).
 */
export const kpiMetricsSchema = z
  .strictObject({
    tasksCompleted: count.optional(),
    /** 0–100. */
    codeQualityScore: z.number().min(0).max(100).optional(),
    positiveFeedbackCount: count.optional(),
    /** 0–1. */
    featureCompletionRate: z.number().min(0).max(1).optional(),
    bugsIntroduced: count.optional(),
    deploymentFailures: count.optional(),
    codeChurn: count.optional(),
    /** Whole minutes, at most a year. */
    averageTaskDuration: z.number().int().min(0).max(525_600).optional(),
    /** Role-specific numbers by name (letters, digits, `_`, `.`, `-`; at most 100 of them). */
    customMetrics: customMetricsSchema.optional(),
  })
  .refine(
    (metrics) =>
      Object.entries(metrics).some(([name, value]) =>
        name === 'customMetrics' ? Object.keys(value as object).length > 0 : value !== undefined,
      ),
    'must hold at least one metric',
  );
export type KpiMetricsInput = z.input<typeof kpiMetricsSchema>;

/** Input of `kpis.record`. */
export const recordKpiSchema = z.strictObject({
  agentId: uuidSchema,
  metrics: kpiMetricsSchema,
  /**
   * When the metrics were measured; by default the database's clock once it holds the agent's lock.
   * Never before the agent's latest record, nor more than a minute ahead of the database's clock.
   */
  recordedAt: z.date().optional(),
  /** Why the KPIs changed ("PR merged"), carried into the kpi_updated event. */
  changeReason: z.string().min(1).max(500).optional(),
});
export type RecordKpiInput = z.input<typeof recordKpiSchema>;

/** Input of `kpis.history`: one agent's records, newest first. */
export const kpiHistorySchema = z.strictObject({ ...pageFields });
export type KpiHistoryInput = z.input<typeof kpiHistorySchema>;

/** Input of `kpis.latest`: the newest record of every agent of the tenant, by agent id. */
export const latestKpisSchema = z.strictObject({ ...pageFields });
export type LatestKpisInput = z.input<typeof latestKpisSchema>;
