import { taskExecutions } from '../executions/task-executions.schema.ts';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, lockRowOf, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CiteEvidenceInput,
  type CreateEvidenceInput,
  citeEvidenceSchema,
  createEvidenceSchema,
  type LinkEvidenceInput,
  type ListCitationsInput,
  type ListEvidenceInput,
  linkEvidenceSchema,
  listCitationsSchema,
  listEvidenceSchema,
  type UpdateEvidenceInput,
  updateEvidenceSchema,
} from './evidence.contract.ts';
import { evidence, executionEvidence } from './evidence.schema.ts';

const item = rowSchema(evidence);
const byId = idParams('evidenceId');
const pairParams = idParams('evidenceId', 'otherId');
const tag = 'evidence';
const byRun = idParams('executionId');
const citationRow = rowSchema(executionEvidence);
// What a citation adds to the evidence or the run it is listed with.
const citation = rowSchema(executionEvidence, ['tenantId', 'executionId', 'evidenceId']);
const linked = {
  type: 'array',
  items: { allOf: [item, { type: 'object', properties: { note: { type: ['string', 'null'] } } }] },
} satisfies JsonSchema;

/** Evidence behind tasks and projects over HTTP: credibility, verification, links. */
export const evidenceRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/evidence',
    operationId: 'evidence.create',
    covers: ['evidence.create'],
    tag,
    summary: 'Record evidence on a project or one of its tasks (content, a reference, or both)',
    body: createEvidenceSchema,
    status: 201,
    response: item,
    handler: ({ tx, body }) => tx.evidence.create(body as CreateEvidenceInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/evidence',
    operationId: 'evidence.list',
    singleStatement: true,
    covers: ['evidence.list'],
    tag,
    summary: 'List evidence most credible first, of a project or a task, by source, verification or tags',
    query: listEvidenceSchema,
    response: pageSchema(item),
    handler: ({ tx, query }) => tx.evidence.list(query as ListEvidenceInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/evidence/:evidenceId',
    operationId: 'evidence.get',
    singleStatement: true,
    covers: ['evidence.get'],
    tag,
    summary: 'Read evidence',
    params: byId,
    response: item,
    handler: ({ tx, params }) => tx.evidence.get(params.evidenceId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/evidence/:evidenceId',
    operationId: 'evidence.update',
    covers: ['evidence.update'],
    tag,
    summary: 'Change evidence (not its project or author)',
    params: byId,
    body: updateEvidenceSchema,
    response: item,
    ifMatch: {
      lock: lockRowOf(evidence, 'evidenceId'),
      current: ({ tx, params }) => tx.evidence.get(params.evidenceId!),
    },
    handler: ({ tx, params, body }) => tx.evidence.update(params.evidenceId!, body as UpdateEvidenceInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/evidence/:evidenceId/verify',
    operationId: 'evidence.verify',
    covers: ['evidence.verify'],
    tag,
    summary: 'Mark evidence verified by the caller, now (once; a verification is not taken back)',
    params: byId,
    response: item,
    handler: ({ tx, params }) => tx.evidence.verify(params.evidenceId!),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/evidence/:evidenceId',
    operationId: 'evidence.delete',
    covers: ['evidence.delete'],
    tag,
    summary: 'Remove evidence and its links',
    params: byId,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.evidence.delete(params.evidenceId!);
    },
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/evidence/:evidenceId/links',
    operationId: 'evidence.links',
    covers: ['evidence.links'],
    tag,
    summary: 'The evidence related to and contradicting this one, most credible first',
    params: byId,
    response: {
      type: 'object',
      properties: { related: linked, contradicting: linked },
      required: ['related', 'contradicting'],
    },
    handler: ({ tx, params }) => tx.evidence.links(params.evidenceId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/evidence/:evidenceId/links',
    operationId: 'evidence.link',
    covers: ['evidence.link'],
    tag,
    summary: 'Link to other evidence as related or contradicting (one link per pair, readable from both)',
    params: byId,
    body: linkEvidenceSchema,
    status: 204,
    handler: async ({ tx, params, body }) => {
      await tx.evidence.link(params.evidenceId!, body as LinkEvidenceInput);
    },
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/evidence/:evidenceId/links/:otherId',
    operationId: 'evidence.unlink',
    covers: ['evidence.unlink'],
    tag,
    summary: 'Remove the link between two pieces of evidence',
    params: pairParams,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.evidence.unlink(params.evidenceId!, params.otherId!);
    },
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/task-executions/:executionId/evidence',
    operationId: 'evidence.cite',
    covers: ['evidence.cite'],
    tag,
    summary:
      "Cite evidence of the run's project in an open run, as its agent or a human member (again: the first citation)",
    params: byRun,
    body: citeEvidenceSchema,
    status: 201,
    response: citationRow,
    handler: ({ tx, params, body }) => tx.evidence.cite(params.executionId!, body as CiteEvidenceInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/task-executions/:executionId/evidence',
    operationId: 'evidence.cited',
    covers: ['evidence.cited'],
    tag,
    summary: 'The evidence a run cites, most credible first, with each citation',
    params: byRun,
    query: listCitationsSchema,
    response: pageSchema({ allOf: [item, citation] }),
    handler: ({ tx, params, query }) => tx.evidence.cited(params.executionId!, query as ListCitationsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/evidence/:evidenceId/runs',
    operationId: 'evidence.citingRuns',
    covers: ['evidence.citingRuns'],
    tag,
    summary: 'The runs citing this evidence, newest citation first, with each citation',
    params: byId,
    query: listCitationsSchema,
    response: pageSchema({ allOf: [rowSchema(taskExecutions), citation] }),
    handler: ({ tx, params, query }) =>
      tx.evidence.citingRuns(params.evidenceId!, query as ListCitationsInput),
  }),
];
