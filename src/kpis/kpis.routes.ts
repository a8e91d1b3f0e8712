import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import { isoDateSchema, parseInput } from '../shared/validation.ts';
import {
  type KpiHistoryInput,
  kpiHistorySchema,
  type LatestKpisInput,
  latestKpisSchema,
  recordKpiSchema,
} from './kpis.contract.ts';
import { kpis } from './kpis.schema.ts';

const kpi = rowSchema(kpis);
const tag = 'kpis';
// The contract with its time as ISO text.
const recordBody = recordKpiSchema.extend({ recordedAt: isoDateSchema.optional() });

const decimal = { type: 'string', description: 'an exact decimal, 0–100' } satisfies JsonSchema;
const trustScoreChange = {
  type: 'object',
  properties: {
    agentId: { type: 'string', format: 'uuid' },
    previous: decimal,
    new: decimal,
    formulaVersion: { type: 'string', description: 'the formula that computed `new` (`trust-v1`)' },
    records: { type: 'integer', description: 'how many KPI records the formula weighed (at most 10)' },
  },
  required: ['agentId', 'previous', 'new', 'formulaVersion', 'records'],
} satisfies JsonSchema;

/** The KPI history of the tenant's agents, and their trust scores, over HTTP. */
export const kpiRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/kpis',
    operationId: 'kpis.record',
    covers: ['kpis.record'],
    tag,
    summary:
      'Record an agent’s KPIs (the database adds the trend and a kpi_updated event); never older than its latest',
    body: recordBody,
    status: 201,
    response: kpi,
    handler: ({ tx, body }) => tx.kpis.record(parseInput(recordBody, body, 'request body')),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/kpis',
    operationId: 'kpis.latest',
    singleStatement: true,
    covers: ['kpis.latest'],
    tag,
    summary: 'The newest KPI record of every agent that has one, by agent id',
    query: latestKpisSchema,
    response: pageSchema(kpi),
    handler: ({ tx, query }) => tx.kpis.latest(query as LatestKpisInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/kpis/:kpiId',
    operationId: 'kpis.get',
    singleStatement: true,
    covers: ['kpis.get'],
    tag,
    summary: 'Read a KPI record',
    params: idParams('kpiId'),
    response: kpi,
    handler: ({ tx, params }) => tx.kpis.get(params.kpiId!),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agents/:agentId/kpis',
    operationId: 'kpis.history',
    singleStatement: true,
    covers: ['kpis.history'],
    tag,
    summary: 'An agent’s KPI records, newest first',
    params: idParams('agentId'),
    query: kpiHistorySchema,
    response: pageSchema(kpi),
    handler: ({ tx, params, query }) => tx.kpis.history(params.agentId!, query as KpiHistoryInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/trust-score/recompute',
    operationId: 'kpis.recomputeTrustScore',
    covers: ['kpis.recomputeTrustScore'],
    tag,
    summary:
      'Recompute the agent’s trust score from its KPI records (formula trust-v1); a change writes a trust_score_changed event',
    params: idParams('agentId'),
    response: trustScoreChange,
    handler: ({ tx, params }) => tx.kpis.recomputeTrustScore(params.agentId!),
  }),
];
