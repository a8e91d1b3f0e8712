import { z } from 'zod';
import { agentTypeSchema } from '../agents/agents.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

/** The most tags one lesson carries (a CHECK of the table). */
export const MAX_LESSON_TAGS = 50;

/** A lesson's category: lowercase letters, digits, `_` and `-` (e.g. `database`, `error-handling`). */
export const lessonCategorySchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$/,
    'lowercase letters, digits, inner "_" and "-", at most 50 characters',
  );

/** A tag, lower-cased: letters, digits and . _ + # / - (e.g. `postgres`, `c#`, `ci/cd`). */
export const lessonTagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9._+#/-]{0,49}$/,
    'letters, digits and . _ + # / -, starting with a letter or digit, at most 50 characters',
  );

/** Tags, lower-cased; a tag given twice is kept once. */
export const lessonTagsSchema = z
  .array(lessonTagSchema)
  .max(MAX_LESSON_TAGS)
  .transform((tags) => [...new Set(tags)]);

/** Text with something visible in it, trimmed. */
const text = (max: number) => z.string().trim().min(1).max(max);

/** A confidence or an outcome score: a finite number from 0 to 1. */
export const unitIntervalSchema = z.number().min(0).max(1);

/** Input of `lessons.create`. A lesson created `humanValidated` must come from a human member. */
export const createLessonSchema = z.strictObject({
  category: lessonCategorySchema,
  title: text(300),
  summary: text(2000),
  details: z.string().max(50000).optional(),
  tags: lessonTagsSchema.optional(),
  sourceAgentType: agentTypeSchema,
  sourceAgentId: uuidSchema.nullable().optional(),
  taskId: uuidSchema.nullable().optional(),
  confidence: unitIntervalSchema.optional(),
  humanValidated: z.boolean().optional(),
});
export type CreateLessonInput = z.input<typeof createLessonSchema>;

/** Input of `lessons.update`: any subset of the lesson's content. Counters and validation have their verbs. */
export const updateLessonSchema = z.strictObject({
  category: lessonCategorySchema.optional(),
  title: text(300).optional(),
  summary: text(2000).optional(),
  details: z.string().max(50000).optional(),
  tags: lessonTagsSchema.optional(),
  confidence: unitIntervalSchema.optional(),
});
export type UpdateLessonInput = z.input<typeof updateLessonSchema>;

/** Input of `lessons.validate`: a human member sets or clears the validation. */
export const validateLessonSchema = z.strictObject({ validated: z.boolean() });
export type ValidateLessonInput = z.input<typeof validateLessonSchema>;

/** An outcome of applying a lesson: success (true = 1, false = 0) or a score from 0 to 1. */
export const lessonOutcomeSchema = z.union([z.boolean(), unitIntervalSchema]);
export type LessonOutcome = z.input<typeof lessonOutcomeSchema>;

const tagFilter = {
  /** Lessons carrying any of these tags (`tagMatch: 'any'`, the default) or all of them. */
  tags: lessonTagsSchema.pipe(z.array(z.string()).min(1)).optional(),
  tagMatch: z.enum(['any', 'all']).default('any'),
};

/** Input of `lessons.list`: live lessons newest first, by category, tags, source and validation. */
export const listLessonsSchema = z.strictObject({
  category: lessonCategorySchema.optional(),
  ...tagFilter,
  sourceAgentType: agentTypeSchema.optional(),
  humanValidated: z.boolean().optional(),
  ...pageFields,
});
export type ListLessonsInput = z.input<typeof listLessonsSchema>;

/**
 * Input of `lessons.search`: web-search syntax (`"exact phrase"`, `or`, `-excluded`) over title,
 * summary and details, ranked; filtered by category and tags. Ordered by rank, then confidence.
 */
export const searchLessonsSchema = z.strictObject({
  query: text(500),
  category: lessonCategorySchema.optional(),
  ...tagFilter,
  ...pageFields,
});
export type SearchLessonsInput = z.input<typeof searchLessonsSchema>;
