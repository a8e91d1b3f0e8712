import { pageSchema, rowSchema } from '../http/openapi.ts';
import { type TenantRoute, tenantRoute } from '../http/route.ts';
import { type ListActivityInput, listActivitySchema } from './activity-feed.contract.ts';
import { activityFeed } from './activity-feed.schema.ts';

const entry = rowSchema(activityFeed);

/** The activity feed over HTTP: read only, as the database writes it. */
export const activityFeedRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/activity-feed',
    operationId: 'activityFeed.list',
    singleStatement: true,
    covers: ['activityFeed.list'],
    tag: 'activity-feed',
    summary:
      'A project’s activity feed (or one task’s), newest first; `publicOnly` leaves out private entries',
    query: listActivitySchema,
    response: pageSchema(entry),
    handler: ({ tx, query }) => tx.activityFeed.list(query as ListActivityInput),
  }),
];
