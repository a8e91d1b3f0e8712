import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateArtifactInput,
  createArtifactSchema,
  type ListArtifactsInput,
  listArtifactsSchema,
} from './artifacts.contract.ts';
import { artifacts } from './artifacts.schema.ts';

const artifact = rowSchema(artifacts);
const byId = idParams('artifactId');
const tag = 'artifacts';

/** Artifacts of tasks over HTTP: immutable once created; their approval status is the database's. */
export const artifactRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/artifacts',
    operationId: 'artifacts.create',
    covers: ['artifacts.create'],
    tag,
    summary: 'Add an artifact (code, diff, document…) to a task, optionally of an execution, as the caller',
    body: createArtifactSchema,
    status: 201,
    response: artifact,
    handler: ({ tx, body }) => tx.artifacts.create(body as CreateArtifactInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/artifacts',
    operationId: 'artifacts.list',
    singleStatement: true,
    covers: ['artifacts.list'],
    tag,
    summary: 'List artifacts oldest first, of a task or an execution, optionally of one approval status',
    query: listArtifactsSchema,
    response: pageSchema(artifact),
    handler: ({ tx, query }) => tx.artifacts.list(query as ListArtifactsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/artifacts/:artifactId',
    operationId: 'artifacts.get',
    singleStatement: true,
    covers: ['artifacts.get'],
    tag,
    summary: 'Read an artifact',
    params: byId,
    response: artifact,
    handler: ({ tx, params }) => tx.artifacts.get(params.artifactId!),
  }),
];
