import { and, asc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import {
  type DecideApprovalInput,
  decideApprovalSchema,
  type ListApprovalsInput,
  listApprovalsSchema,
  type RequestApprovalInput,
  requestApprovalSchema,
} from './approvals.contract.ts';
import { type Approval, approvals } from './approvals.schema.ts';

// Oldest first: (created_at, id) ascending, so an inbox shows what has waited longest first.
const approvalsKey = z.tuple([cursorTimestamp, uuidSchema]);

/**
 * Approval requests on tasks and their human decisions. The rules are the database's (migration
 * 16), raw SQL included: a request needs the task in progress and puts it in review, its artifacts
 * pending; at most one pending approval per task; only a human owner, admin or manager decides; a
 * decision is final, moves the task on and marks the artifacts.
 */
export const approvalsRepository = {
  /**
   * Requests approval of a task in progress, as the unit's actor: the task goes to in_review and the
   * covered artifacts to pending in the same transaction. ConflictError `invalid_transition` when
   * the task is not in progress, `approval_pending` when it already awaits one; ValidationError
   * `invalid_reference` when an artifact is not the task's.
   */
  async request(tx: TenantScope, input: RequestApprovalInput): Promise<Approval> {
    const values = parseInput(requestApprovalSchema, input, 'approval request');
    const [row] = await tx.db
      .insert(approvals)
      .values({
        tenantId: tx.tenantId,
        taskId: values.taskId,
        title: values.title,
        description: values.description ?? null,
        artifactIds: values.artifactIds ?? [],
        resumeState: values.resumeState ?? {},
        onApprove: values.onApprove ?? 'complete',
      })
      .returning();
    return row!;
  },

  /**
   * Decides a pending approval, as the unit's actor (a human owner, admin or manager, else
   * ForbiddenError `approver_required`). Approved: the task completes (or goes back to in_progress
   * when the request said `continue`); rejected: it goes back to in_progress, the reason in its
   * metadata's `review`. The covered artifacts are marked. A decided approval is final
   * (ConflictError `approval_decided`).
   */
  async decide(tx: TenantScope, id: string, input: DecideApprovalInput): Promise<Approval> {
    const approvalId = parseId(id, 'approval');
    const values = parseInput(decideApprovalSchema, input, 'approval decision');
    const [row] = await tx.db
      .update(approvals)
      .set({ status: values.decision, reason: values.reason ?? null })
      .where(and(eq(approvals.tenantId, tx.tenantId), eq(approvals.id, approvalId)))
      .returning();
    if (!row) throw new NotFoundError('approval', approvalId);
    return row;
  },

  async get(tx: TenantScope, id: string): Promise<Approval> {
    const approvalId = parseId(id, 'approval');
    const [row] = await tx.db
      .select()
      .from(approvals)
      .where(and(eq(approvals.tenantId, tx.tenantId), eq(approvals.id, approvalId)));
    if (!row) throw new NotFoundError('approval', approvalId);
    return row;
  },

  /**
   * One page of approvals of live tasks, oldest first by (created_at, id): of the tenant, a project
   * or a task, optionally of one status (`pending`: the humans' inbox).
   */
  async list(tx: TenantScope, input: ListApprovalsInput = {}): Promise<Page<Approval>> {
    const query = parseInput(listApprovalsSchema, input, 'approval list');
    const conditions: SQL[] = [eq(approvals.tenantId, tx.tenantId), isNull(tasks.deletedAt)];
    if (query.status) conditions.push(eq(approvals.status, query.status));
    if (query.projectId) conditions.push(eq(tasks.projectId, query.projectId));
    if (query.taskId) conditions.push(eq(approvals.taskId, query.taskId));
    if (query.cursor) {
      const [at, id] = decodeCursor('approvals', query.cursor, approvalsKey);
      const exact = exactTimestamp(approvals.createdAt, approvals.id, at, id);
      conditions.push(sql`(${approvals.createdAt}, ${approvals.id}) > (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select(getTableColumns(approvals))
      .from(approvals)
      .innerJoin(tasks, and(eq(tasks.tenantId, approvals.tenantId), eq(tasks.id, approvals.taskId)))
      .where(and(...conditions))
      .orderBy(asc(approvals.createdAt), asc(approvals.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'approvals', (row) => [row.createdAt.toISOString(), row.id]);
  },
};
