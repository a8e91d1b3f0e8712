import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { APPROVAL_DECISIONS, APPROVAL_ON_APPROVE, APPROVAL_STATUSES } from './approvals.schema.ts';

/** Largest resume document, as JSON text: what an agent needs to pick its work up again. */
export const RESUME_STATE_MAX_BYTES = 256 * 1024;

const reasonSchema = z.string().trim().min(1).max(5000);

/** Input of `approvals.request`: the requester is the unit's actor; the task must be in progress. */
export const requestApprovalSchema = z.strictObject({
  taskId: uuidSchema,
  title: z.string().trim().min(1).max(500),
  description: z.string().max(50000).optional(),
  /** Artifacts of the task the request covers: each becomes pending until the decision. */
  artifactIds: z
    .array(uuidSchema)
    .max(100)
    .refine((ids) => new Set(ids).size === ids.length, 'must not name an artifact twice')
    .optional(),
  /** What the agent needs to resume after a restart (its step, plan, branch, open questions…). */
  resumeState: jsonObjectSchema
    .refine(
      (state) => Buffer.byteLength(JSON.stringify(state), 'utf8') <= RESUME_STATE_MAX_BYTES,
      `must not exceed ${RESUME_STATE_MAX_BYTES} bytes as JSON`,
    )
    .optional(),
  /** Where an approval takes the task: `complete` (default) or `continue` (back to in_progress). */
  onApprove: z.enum(APPROVAL_ON_APPROVE).optional(),
});
export type RequestApprovalInput = z.input<typeof requestApprovalSchema>;

/** Input of `approvals.decide`: approved or rejected; a rejection says why. */
export const decideApprovalSchema = z
  .strictObject({
    decision: z.enum(APPROVAL_DECISIONS),
    reason: reasonSchema.optional(),
  })
  .refine((input) => input.decision !== 'rejected' || input.reason !== undefined, {
    path: ['reason'],
    message: 'a rejection needs a reason',
  });
export type DecideApprovalInput = z.input<typeof decideApprovalSchema>;

/**
 * Input of `approvals.list`: oldest first, of the tenant, a project or a task, optionally of one
 * status. `status: 'pending'` is a human's inbox (tasks deleted while waiting are left out).
 */
export const listApprovalsSchema = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional(),
  projectId: uuidSchema.optional(),
  taskId: uuidSchema.optional(),
  ...pageFields,
});
export type ListApprovalsInput = z.input<typeof listApprovalsSchema>;
