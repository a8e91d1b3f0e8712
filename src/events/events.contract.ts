import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { EVENT_TYPES } from './events.schema.ts';

// Payloads are bounded field by field, so an event stays a few kilobytes at most (wiki content,
// the longest, excepted): the timeline is the largest tenant table and is read page by page.
const title = z.string().min(1).max(500);
const text = (max: number) => z.string().min(1).max(max);
const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const webUrl = z.url({ protocol: /^https?$/ }).max(2048);
/** `owner/name`, as GitHub spells a repository. */
const githubRepository = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name');
const githubNumber = z.number().int().positive();
const taskPriority = z.enum(['P0', 'P1', 'P2', 'P3']);
/** KPI figures as the kpis domain records them: metric name to number (or a nested record). */
const kpiFigures = jsonObjectSchema;

/** The payload of each event type (seed 002's content examples), keyed by type. */
export const eventPayloadSchemas = {
  /** System: what changed for the agent since its previous session stopped. */
  session_start: z.strictObject({
    agentId: uuidSchema,
    previousSessionId: uuidSchema.nullable(),
    since: isoTime.nullable(),
    pulledUpdates: z.strictObject({ mentions: count, tasks: count }),
  }),
  session_log: z.strictObject({
    message: text(10_000),
    context: z
      .strictObject({
        file: text(1024).optional(),
        line: z.number().int().positive().optional(),
        progress: z.number().min(0).max(100).optional(),
      })
      .optional(),
  }),
  /** System: the session's length and how many tasks it worked on. */
  session_stop: z.strictObject({ agentId: uuidSchema, durationSeconds: count, tasksWorkedOn: count }),
  task_assigned: z.strictObject({
    taskId: uuidSchema,
    title,
    description: z.string().max(10_000).optional(),
    priority: taskPriority,
    deadline: isoTime.nullable().optional(),
    assigneeId: uuidSchema.optional(),
  }),
  task_completed: z.strictObject({
    taskId: uuidSchema,
    title: title.optional(),
    summary: z.string().max(10_000).optional(),
    durationMinutes: count.optional(),
  }),
  task_blocked: z.strictObject({
    taskId: uuidSchema,
    reason: text(5000),
    blockedBy: z.array(uuidSchema).max(50).optional(),
  }),
  problem_report: z.strictObject({
    title,
    description: z.string().max(10_000).optional(),
    severity: z.enum(['low', 'medium', 'high', 'critical']),
    taskId: uuidSchema.optional(),
  }),
  advice_given: z.strictObject({
    message: text(10_000),
    topic: text(200).optional(),
    /** The event (a question or problem report) this answers. */
    inReplyTo: z.number().int().positive().optional(),
  }),
  question_asked: z.strictObject({
    question: text(5000),
    context: z.string().max(10_000).optional(),
    taskId: uuidSchema.optional(),
  }),
  review_requested: z.strictObject({
    title,
    url: webUrl.optional(),
    pullRequestNumber: githubNumber.optional(),
    reviewerIds: z.array(uuidSchema).max(20).optional(),
  }),
  review_response: z.strictObject({
    verdict: z.enum(['approved', 'changes_requested', 'commented']),
    comment: z.string().max(10_000).optional(),
    url: webUrl.optional(),
    pullRequestNumber: githubNumber.optional(),
  }),
  github_pr_opened: z.strictObject({
    repository: githubRepository,
    number: githubNumber,
    title,
    url: webUrl,
    branch: text(255).optional(),
  }),
  github_pr_merged: z.strictObject({
    repository: githubRepository,
    number: githubNumber,
    title: title.optional(),
    url: webUrl,
    mergedBy: text(100).optional(),
    mergeCommitSha: z
      .string()
      .regex(/^[0-9a-f]{40}$/, '40 lowercase hex digits')
      .optional(),
  }),
  github_issue_assigned: z.strictObject({
    repository: githubRepository,
    number: githubNumber,
    title,
    url: webUrl,
    assignee: text(100).optional(),
  }),
  /** System: written when a KPI record is stored. */
  kpi_updated: z.strictObject({
    agentId: uuidSchema,
    previousKPIs: kpiFigures.nullable(),
    newKPIs: kpiFigures,
    changeReason: z.string().max(1000).nullable().optional(),
  }),
  /** System: written when an agent's trust score changes. */
  trust_score_changed: z.strictObject({
    agentId: uuidSchema,
    previous: z.number().min(0).max(100),
    new: z.number().min(0).max(100),
    formulaVersion: text(50).optional(),
    reason: z.string().max(1000).optional(),
  }),
  wiki_contribution: z.strictObject({
    entryId: uuidSchema,
    title,
    content: z.string().max(100_000),
    status: z.enum(['draft', 'pending_approval', 'approved', 'rejected']),
    /** Written by the wiki's trigger (migration 19): the version, its number, who decided, why rejected. */
    versionId: uuidSchema.optional(),
    version: z.number().int().positive().optional(),
    decidedBy: uuidSchema.optional(),
    reason: z.string().max(2000).optional(),
  }),
} as const satisfies Record<(typeof EVENT_TYPES)[number], z.ZodType>;

export type EventPayloads = {
  [Type in keyof typeof eventPayloadSchemas]: z.output<(typeof eventPayloadSchemas)[Type]>;
};

/** Largest metadata document of an event, as JSON (tags, a related issue: not a store for documents). */
export const EVENT_METADATA_MAX_BYTES = 16 * 1024;

/** Agents an event concerns: at most 100, each once. */
export const mentionsSchema = z
  .array(uuidSchema)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not name an agent twice');

/** A metadata document of an event or a work session: a JSON object of at most 16 KiB. */
export const metadataSchema = jsonObjectSchema.refine(
  (metadata) => Buffer.byteLength(JSON.stringify(metadata), 'utf8') <= EVENT_METADATA_MAX_BYTES,
  `must not exceed ${EVENT_METADATA_MAX_BYTES} bytes as JSON`,
);

/** What every appended event may carry besides its type and payload. */
const eventFields = {
  projectId: uuidSchema.optional(),
  sessionId: uuidSchema.optional(),
  /** The agent writing it; an agent actor's own id when omitted (and it may name no other). */
  authorId: uuidSchema.optional(),
  /** Agents the event concerns: they find it through the mention filter and when a session starts. */
  mentions: mentionsSchema.optional(),
  metadata: metadataSchema.optional(),
};

function eventOf<Type extends (typeof EVENT_TYPES)[number]>(type: Type) {
  return z.strictObject({ type: z.literal(type), payload: eventPayloadSchemas[type], ...eventFields });
}

/**
 * Input of `events.append`: one event, its payload checked against its type. The four system
 * types validate here too, and the database then refuses them to callers (ForbiddenError).
 */
export const appendEventSchema = z.discriminatedUnion('type', [
  eventOf('session_start'),
  eventOf('session_log'),
  eventOf('session_stop'),
  eventOf('task_assigned'),
  eventOf('task_completed'),
  eventOf('task_blocked'),
  eventOf('problem_report'),
  eventOf('advice_given'),
  eventOf('question_asked'),
  eventOf('review_requested'),
  eventOf('review_response'),
  eventOf('github_pr_opened'),
  eventOf('github_pr_merged'),
  eventOf('github_issue_assigned'),
  eventOf('kpi_updated'),
  eventOf('trust_score_changed'),
  eventOf('wiki_contribution'),
]);
export type AppendEventInput = z.input<typeof appendEventSchema>;

/** The most events one `appendBatch` writes (one INSERT). */
export const EVENT_BATCH_MAX = 1000;

/** Input of `events.appendBatch`: 1 to 1,000 events, written all or none. */
export const appendEventBatchSchema = z.array(appendEventSchema).min(1).max(EVENT_BATCH_MAX);
export type AppendEventBatchInput = z.input<typeof appendEventBatchSchema>;

const eventTypeSchema = z.enum(EVENT_TYPES);
const timeSchema = z.union([z.date(), isoTime.transform((value) => new Date(value))]);

/** Input of `events.list`: the tenant's timeline newest first, narrowed by any of the filters. */
export const listEventsSchema = z.strictObject({
  projectId: uuidSchema.optional(),
  sessionId: uuidSchema.optional(),
  authorId: uuidSchema.optional(),
  /** One type, or any of several. */
  type: z.union([eventTypeSchema, z.array(eventTypeSchema).min(1).max(EVENT_TYPES.length)]).optional(),
  /** Events mentioning this agent. */
  mention: uuidSchema.optional(),
  /** Events at or after this time. */
  from: timeSchema.optional(),
  /** Events before this time. */
  to: timeSchema.optional(),
  ...pageFields,
});
export type ListEventsInput = z.input<typeof listEventsSchema>;
