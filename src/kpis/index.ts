// The KPIs domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './kpis.contract.ts';
export type { TrustScoreChange } from './kpis.repository.ts';
export {
  KPI_HIGHER_IS_BETTER,
  KPI_LOWER_IS_BETTER,
  type Kpi,
  type KpiCoreMetric,
  type KpiDirection,
  type KpiMetrics,
  type KpiOverallTrend,
  type KpiTrend,
} from './kpis.schema.ts';
