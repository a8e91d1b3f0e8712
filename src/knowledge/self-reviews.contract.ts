import { z } from 'zod';
import { agentTypeSchema } from '../agents/agents.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { isoDateSchema, jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { SELF_REVIEW_DECISIONS } from './self-reviews.schema.ts';

/** The most gaps or requirements one review lists (a CHECK of the table). */
export const MAX_REVIEW_ITEMS = 200;

const score = z.number().min(0).max(1);
/** A gap or a requirement: a line of text or a JSON object (`{ "text": …, "met": false }`). */
const reviewItem = z.union([z.string().min(1).max(2000), jsonObjectSchema]);
const reviewItems = z.array(reviewItem).max(MAX_REVIEW_ITEMS);

/** Input of `selfReviews.create`: one iteration's review of a task (and execution); written once. */
export const createSelfReviewSchema = z.strictObject({
  taskId: uuidSchema,
  executionId: uuidSchema.nullable().optional(),
  iteration: z.number().int().min(1).max(1000),
  agentType: agentTypeSchema,
  agentId: uuidSchema.nullable().optional(),
  /** Scores from 0 to 1. */
  qualityScore: score,
  completenessScore: score,
  correctnessScore: score,
  overallScore: score,
  gaps: reviewItems.optional(),
  requirements: reviewItems.optional(),
  decision: z.enum(SELF_REVIEW_DECISIONS),
  reasoning: z.string().max(20000).nullable().optional(),
  durationMs: z.number().int().min(0).max(2147483647).nullable().optional(),
});
export type CreateSelfReviewInput = z.input<typeof createSelfReviewSchema>;

/** Input of `selfReviews.latest`: the latest review of one execution, or of one task. */
export const latestSelfReviewSchema = z.union([
  z.strictObject({ executionId: uuidSchema }),
  z.strictObject({ taskId: uuidSchema }),
]);
export type LatestSelfReviewInput = z.input<typeof latestSelfReviewSchema>;

/** The same input as HTTP query parameters take it: exactly one of the two. */
export const latestSelfReviewQuerySchema = z
  .strictObject({ executionId: uuidSchema.optional(), taskId: uuidSchema.optional() })
  .refine((input) => (input.executionId === undefined) !== (input.taskId === undefined), {
    message: 'give exactly one of executionId and taskId',
  });

/** Input of `selfReviews.list`: reviews newest first, of one task or execution, agent type or agent. */
export const listSelfReviewsSchema = z.strictObject({
  taskId: uuidSchema.optional(),
  executionId: uuidSchema.optional(),
  agentType: agentTypeSchema.optional(),
  agentId: uuidSchema.optional(),
  ...pageFields,
});
export type ListSelfReviewsInput = z.input<typeof listSelfReviewsSchema>;

const time = z.union([z.date(), isoDateSchema]);
/** The longest range one trend covers: a year of days, ten of weeks (bounded result). */
export const MAX_TREND_DAYS = { day: 366, week: 3660 } as const;

/**
 * Input of `selfReviews.scoreTrends`: average scores per agent type and UTC day or ISO week
 * (starting Monday), over reviews created in [from, to).
 */
export const scoreTrendsSchema = z
  .strictObject({
    agentType: agentTypeSchema.optional(),
    from: time,
    to: time,
    bucket: z.enum(['day', 'week']).default('day'),
  })
  .refine((input) => input.from < input.to, { path: ['to'], message: 'must be after from' })
  .refine((input) => input.to.getTime() - input.from.getTime() <= MAX_TREND_DAYS[input.bucket] * 86_400_000, {
    path: ['to'],
    message: 'the range is too long for the bucket (366 days by day, 3660 by week)',
  });
export type ScoreTrendsInput = z.input<typeof scoreTrendsSchema>;
