import { z } from 'zod';
import { AGENT_TYPES } from '../agents/agents.schema.ts';
import { pageFields } from '../shared/pagination.ts';
import { isoDateSchema, jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { TASK_PHASES, TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES } from './tasks.schema.ts';

export const taskStatusSchema = z.enum(TASK_STATUSES);
export const taskPhaseSchema = z.enum(TASK_PHASES);
export const taskPrioritySchema = z.enum(TASK_PRIORITIES);
export const taskTypeSchema = z.enum(TASK_TYPES);

/** The statuses a task may be created in; every other one is reached by `transition`. */
export const TASK_INITIAL_STATUSES = ['draft', 'backlog', 'assigned'] as const;

/** `owner/name` of a GitHub repository (the table's CHECK). */
export const githubRepositorySchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name of a GitHub repository');

/** Hours as exact decimal text (numeric(8,2)): never a float. */
export const estimateHoursSchema = z
  .string()
  .regex(/^\d{1,6}(\.\d{1,2})?$/, 'a decimal number of hours, at most 999999.99, as text');

/** A time: a Date, or ISO 8601 text with `Z` or an offset (its HTTP form). */
const deadlineSchema = z.union([z.date(), isoDateSchema]);

const agentTypeList = z.array(z.enum(AGENT_TYPES)).max(50);
const positiveInt = z.number().int().min(1).max(2_147_483_647);
/** GitHub's issue ids outgrew 32 bits: a bigint column, read as a number (exact to 2^53). */
const githubIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** What describes a task: what `create` takes and `update` may change. */
const descriptiveFields = {
  title: z.string().min(1).max(500),
  prompt: z.string().max(100_000).nullable().optional(),
  description: z.string().max(50_000).nullable().optional(),
  type: taskTypeSchema.optional(),
  priority: taskPrioritySchema.optional(),
  deadline: deadlineSchema.nullable().optional(),
  successCriteria: z.array(z.string().min(1).max(2000)).max(100).optional(),
  githubPrNumber: positiveInt.nullable().optional(),
  analysis: jsonObjectSchema.nullable().optional(),
  agentQueue: agentTypeList.optional(),
  completedAgents: agentTypeList.optional(),
  maxRetries: z.number().int().min(0).max(100).optional(),
  metadata: jsonObjectSchema.optional(),
  estimateHours: estimateHoursSchema.nullable().optional(),
};

const oneAssignee = {
  check: (input: { assigneeAgentId?: string | null; assigneeUserId?: string | null }) =>
    !(input.assigneeAgentId && input.assigneeUserId),
  message: { path: ['assigneeUserId'], message: 'a task has one assignee: an agent or a user, never both' },
};

/**
 * Input of `tasks.create`: a task starts as a draft, in the backlog (the default) or assigned (to
 * an agent or a user, never both). The database owns retries, start and completion times.
 */
export const createTaskSchema = z
  .strictObject({
    projectId: uuidSchema,
    ...descriptiveFields,
    status: z.enum(TASK_INITIAL_STATUSES).optional(),
    assigneeAgentId: uuidSchema.nullable().optional(),
    assigneeUserId: uuidSchema.nullable().optional(),
    githubRepository: githubRepositorySchema.nullable().optional(),
    githubIssueId: githubIdSchema.nullable().optional(),
    githubIssueNumber: positiveInt.nullable().optional(),
  })
  .refine(oneAssignee.check, oneAssignee.message)
  .refine((input) => input.status !== 'assigned' || !!(input.assigneeAgentId || input.assigneeUserId), {
    path: ['status'],
    message: 'an assigned task needs an assignee (assigneeAgentId or assigneeUserId)',
  })
  .refine((input) => !input.githubIssueId === !input.githubIssueNumber, {
    path: ['githubIssueNumber'],
    message: 'a GitHub issue needs both its id and its number',
  })
  .refine((input) => !input.githubIssueId || !!input.githubRepository, {
    path: ['githubRepository'],
    message: 'a GitHub issue needs its repository',
  });
export type CreateTaskInput = z.input<typeof createTaskSchema>;

/**
 * Input of `tasks.update`: any subset of the descriptive fields. Status, phase and outcome change
 * by `transition`, the assignee by `assign` / `unassign`; the project and the GitHub issue stay.
 */
export const updateTaskSchema = z.strictObject({
  ...descriptiveFields,
  title: descriptiveFields.title.optional(),
});
export type UpdateTaskInput = z.input<typeof updateTaskSchema>;

/** Input of `tasks.assign`: an agent or a member of the tenant (never both); null unassigns. */
export const assignTaskSchema = z
  .union([z.strictObject({ agentId: uuidSchema }), z.strictObject({ userId: uuidSchema })])
  .nullable();
export type AssignTaskInput = z.input<typeof assignTaskSchema>;

/**
 * Input of `tasks.transition`: the new status (TASK_TRANSITIONS says which may follow which; the
 * database refuses the others), with the in_progress phase, the reason it is blocked, the error of
 * a failure or the result of a completion. The same status again changes only the phase.
 */
export const transitionTaskSchema = z
  .strictObject({
    status: taskStatusSchema,
    phase: taskPhaseSchema.optional(),
    reason: z.string().min(1).max(5000).optional(),
    error: jsonObjectSchema.optional(),
    result: jsonObjectSchema.optional(),
  })
  .refine((input) => input.phase === undefined || input.status === 'in_progress', {
    path: ['phase'],
    message: 'a phase belongs to in_progress',
  })
  .refine((input) => (input.status === 'blocked') === (input.reason !== undefined), {
    path: ['reason'],
    message: 'a blocked task needs a reason, and only a blocked task has one',
  })
  .refine((input) => input.error === undefined || input.status === 'failed', {
    path: ['error'],
    message: 'an error belongs to failed',
  });
export type TransitionTaskInput = z.input<typeof transitionTaskSchema>;

/**
 * Input of `tasks.importGithubIssue`: the issue as GitHub describes it. The same issue (project,
 * issue id) again updates the task it made: title, description, labels, number, repository, url.
 */
export const importGithubIssueSchema = z.strictObject({
  projectId: uuidSchema,
  repository: githubRepositorySchema,
  issueId: githubIdSchema,
  issueNumber: positiveInt,
  title: descriptiveFields.title,
  body: z.string().max(50_000).nullable().optional(),
  labels: z.array(z.string().min(1).max(100)).max(100).optional(),
  url: z.url().max(2048).optional(),
  /** Used when the issue makes a new task; a re-import keeps the task's own. */
  type: taskTypeSchema.optional(),
  priority: taskPrioritySchema.optional(),
});
export type ImportGithubIssueInput = z.input<typeof importGithubIssueSchema>;

/** Input of `tasks.list`: live tasks newest first, filtered. */
export const listTasksSchema = z.strictObject({
  projectId: uuidSchema.optional(),
  status: z.array(taskStatusSchema).min(1).max(TASK_STATUSES.length).optional(),
  priority: taskPrioritySchema.optional(),
  assigneeAgentId: uuidSchema.optional(),
  assigneeUserId: uuidSchema.optional(),
  ...pageFields,
});
export type ListTasksInput = z.input<typeof listTasksSchema>;

/** Input of `tasks.purgeDeleted` (service role): soft-deleted tasks and projects older than this go for good. */
export const purgeDeletedSchema = z.strictObject({
  olderThanDays: z.number().int().min(0).max(36_500),
});
export type PurgeDeletedInput = z.input<typeof purgeDeletedSchema>;
