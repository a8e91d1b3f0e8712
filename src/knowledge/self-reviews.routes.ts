import { AGENT_TYPES } from '../agents/agents.schema.ts';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type CreateSelfReviewInput,
  createSelfReviewSchema,
  type LatestSelfReviewInput,
  type ListSelfReviewsInput,
  latestSelfReviewQuerySchema,
  listSelfReviewsSchema,
  type ScoreTrendsInput,
  scoreTrendsSchema,
} from './self-reviews.contract.ts';
import { selfReviews } from './self-reviews.schema.ts';

const review = rowSchema(selfReviews);
const tag = 'self-reviews';
const trendPoint = {
  type: 'object',
  properties: {
    agentType: { type: 'string', enum: [...AGENT_TYPES] },
    bucket: { type: 'string', format: 'date-time', description: 'start of the UTC day or ISO week' },
    reviews: { type: 'integer' },
    qualityScore: { type: 'number' },
    completenessScore: { type: 'number' },
    correctnessScore: { type: 'number' },
    overallScore: { type: 'number' },
  },
  required: [
    'agentType',
    'bucket',
    'reviews',
    'qualityScore',
    'completenessScore',
    'correctnessScore',
    'overallScore',
  ],
} satisfies JsonSchema;

/** Agents' self-reviews over HTTP: written once per iteration, the latest, and score trends. */
export const selfReviewRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/self-reviews',
    operationId: 'selfReviews.create',
    covers: ['selfReviews.create'],
    tag,
    summary: 'Record a self-review of one iteration (409 `duplicate` when the iteration has one)',
    body: createSelfReviewSchema,
    status: 201,
    response: review,
    handler: ({ tx, body }) => tx.selfReviews.create(body as CreateSelfReviewInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/self-reviews',
    operationId: 'selfReviews.list',
    singleStatement: true,
    covers: ['selfReviews.list'],
    tag,
    summary: 'List self-reviews newest first, of a task, execution, agent type or agent',
    query: listSelfReviewsSchema,
    response: pageSchema(review),
    handler: ({ tx, query }) => tx.selfReviews.list(query as ListSelfReviewsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/self-reviews/latest',
    operationId: 'selfReviews.latest',
    singleStatement: true,
    covers: ['selfReviews.latest'],
    tag,
    summary: 'The latest self-review of an execution or of a task (exactly one of the two)',
    query: latestSelfReviewQuerySchema,
    response: review,
    handler: ({ tx, query }) => tx.selfReviews.latest(query as LatestSelfReviewInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/self-reviews/trends',
    operationId: 'selfReviews.scoreTrends',
    singleStatement: true,
    covers: ['selfReviews.scoreTrends'],
    tag,
    summary: 'Average scores per agent type and UTC day or ISO week over [from, to)',
    query: scoreTrendsSchema,
    response: { type: 'array', items: trendPoint },
    handler: ({ tx, query }) => tx.selfReviews.scoreTrends(query as ScoreTrendsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/self-reviews/:reviewId',
    operationId: 'selfReviews.get',
    singleStatement: true,
    covers: ['selfReviews.get'],
    tag,
    summary: 'Read a self-review',
    params: idParams('reviewId'),
    response: review,
    handler: ({ tx, params }) => tx.selfReviews.get(params.reviewId!),
  }),
];
