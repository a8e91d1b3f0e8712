import { rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import { users } from './users.schema.ts';

/** The repository never returns the password hash: the document does not promise it either. */
const user = rowSchema(users, ['passwordHash']);

/** The users a tenant can see: its members (row-level security hides everyone else). */
export const userRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/users/:userId',
    operationId: 'users.get',
    singleStatement: true,
    covers: ['users.get'],
    tag: 'tenancy',
    summary: "Read a member's user profile (404 for anyone who is not a member of this tenant)",
    params: idParams('userId'),
    response: user,
    handler: ({ tx, params }) => tx.users.get(params.userId!),
  }),
];
