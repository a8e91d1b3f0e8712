import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, tenantRoute } from '../http/route.ts';
import {
  type DecideApprovalInput,
  decideApprovalSchema,
  type ListApprovalsInput,
  listApprovalsSchema,
  type RequestApprovalInput,
  requestApprovalSchema,
} from './approvals.contract.ts';
import { approvals } from './approvals.schema.ts';

const approval = rowSchema(approvals);
const byId = idParams('approvalId');
const tag = 'approvals';

/** Approval requests and human decisions over HTTP. */
export const approvalRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/approvals',
    operationId: 'approvals.request',
    covers: ['approvals.request'],
    tag,
    summary:
      'Request approval of a task in progress: it goes to in_review, its covered artifacts to pending (409 `approval_pending` when one waits)',
    body: requestApprovalSchema,
    status: 201,
    response: approval,
    handler: ({ tx, body }) => tx.approvals.request(body as RequestApprovalInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/approvals',
    operationId: 'approvals.list',
    singleStatement: true,
    covers: ['approvals.list'],
    tag,
    summary: 'List approvals oldest first, of a project or a task; `status=pending` is the humans’ inbox',
    query: listApprovalsSchema,
    response: pageSchema(approval),
    handler: ({ tx, query }) => tx.approvals.list(query as ListApprovalsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/approvals/:approvalId',
    operationId: 'approvals.get',
    singleStatement: true,
    covers: ['approvals.get'],
    tag,
    summary: 'Read an approval, with the resume state its agent stored',
    params: byId,
    response: approval,
    handler: ({ tx, params }) => tx.approvals.get(params.approvalId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/approvals/:approvalId/decision',
    operationId: 'approvals.decide',
    covers: ['approvals.decide'],
    tag,
    summary:
      'Decide a pending approval as a human owner, admin or manager (403 otherwise): the task moves on, the artifacts are marked; final (409 `approval_decided`)',
    params: byId,
    body: decideApprovalSchema,
    response: approval,
    handler: ({ tx, params, body }) => tx.approvals.decide(params.approvalId!, body as DecideApprovalInput),
  }),
];
