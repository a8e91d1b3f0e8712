import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type JsonSchema, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type ListMembershipsInput,
  listMembershipsSchema,
  type UpdateMembershipInput,
  updateMembershipSchema,
} from './memberships.contract.ts';
import { memberships } from './memberships.schema.ts';
import { users } from './users.schema.ts';

type ObjectSchema = JsonSchema & { properties: Record<string, JsonSchema>; required: string[] };

const membership = rowSchema(memberships) as ObjectSchema;
const userColumns = (rowSchema(users) as ObjectSchema).properties;
/** A membership as the list returns it: with the member's email and name, columns of users. */
const member: ObjectSchema = {
  ...membership,
  properties: { ...membership.properties, email: userColumns.email!, name: userColumns.name! },
  required: [...membership.required, 'email', 'name'],
};
const byUser = idParams('userId');
const tag = 'tenancy';

/**
 * The members of the caller's tenant, addressed by their user id (unique per tenant). Adding a
 * member is for the service role (see membershipsRepository), so there is no POST.
 */
export const membershipRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/members',
    operationId: 'memberships.list',
    singleStatement: true,
    covers: ['memberships.list'],
    tag,
    summary: "List the tenant's members with their email and name, oldest first",
    query: listMembershipsSchema,
    response: pageSchema(member),
    handler: ({ tx, query }) => tx.memberships.list(query as ListMembershipsInput),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/members/:userId',
    operationId: 'memberships.update',
    covers: ['memberships.update'],
    tag,
    summary: "Change a member's role",
    params: byUser,
    body: updateMembershipSchema,
    response: membership,
    handler: ({ tx, params, body }) => tx.memberships.update(params.userId!, body as UpdateMembershipInput),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/members/:userId',
    operationId: 'memberships.delete',
    covers: ['memberships.delete'],
    tag,
    summary: 'Remove a member from the tenant (the user stays)',
    params: byUser,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.memberships.delete(params.userId!);
    },
  }),
];
