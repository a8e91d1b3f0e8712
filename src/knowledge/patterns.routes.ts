import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type ListPatternsInput,
  listPatternsSchema,
  type RecordPatternInput,
  recordPatternSchema,
} from './patterns.contract.ts';
import { patterns } from './patterns.schema.ts';

const pattern = rowSchema(patterns);
const tag = 'patterns';

/** Detected patterns over HTTP: a sighting is an upsert on the fingerprint; most frequent first. */
export const patternRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/patterns',
    operationId: 'patterns.record',
    covers: ['patterns.record'],
    tag,
    summary: 'Record a sighting: a new pattern at frequency 1, a known one (same fingerprint) counted again',
    body: recordPatternSchema,
    response: pattern,
    handler: ({ tx, body }) => tx.patterns.record(body as RecordPatternInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/patterns',
    operationId: 'patterns.list',
    singleStatement: true,
    covers: ['patterns.list'],
    tag,
    summary: 'List patterns most frequent first, of one type and agent type',
    query: listPatternsSchema,
    response: pageSchema(pattern),
    handler: ({ tx, query }) => tx.patterns.list(query as ListPatternsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/patterns/:patternId',
    operationId: 'patterns.get',
    singleStatement: true,
    covers: ['patterns.get'],
    tag,
    summary: 'Read a pattern',
    params: idParams('patternId'),
    response: pattern,
    handler: ({ tx, params }) => tx.patterns.get(params.patternId!),
  }),
];
