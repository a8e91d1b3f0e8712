import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { EVIDENCE_LINK_KINDS, EVIDENCE_SOURCE_TYPES } from './evidence.schema.ts';

/** A tag of evidence (`flaky`, `perf/p95`): lowercase, so a filter never misses another spelling. */
export const evidenceTagSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._+#/-]{0,63}$/,
    'lowercase letters, digits and . _ + # / -, at most 64 characters',
  );

/** Credibility 0–1 with at most three decimals (numeric(4,3)): a value the column would round is refused. */
export const credibilitySchema = z
  .number()
  .min(0)
  .max(1)
  .refine((value) => Math.abs(value * 1000 - Math.round(value * 1000)) < 1e-9, 'at most three decimals');

const tagsSchema = z
  .array(evidenceTagSchema)
  .max(50)
  .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag');

/** Input of `evidence.create`: content, or a reference to where the evidence is, or both. */
export const createEvidenceSchema = z
  .strictObject({
    projectId: uuidSchema,
    /** The task it is about; of the same project. */
    taskId: uuidSchema.optional(),
    sourceType: z.enum(EVIDENCE_SOURCE_TYPES),
    title: z.string().trim().min(1).max(500),
    content: z.string().min(1).max(100_000).optional(),
    reference: z.string().min(1).max(2048).optional(),
    credibility: credibilitySchema.default(0.5),
    tags: tagsSchema.default([]),
    metadata: jsonObjectSchema.optional(),
  })
  .refine((input) => input.content !== undefined || input.reference !== undefined, {
    message: 'give the content or a reference',
    path: ['content'],
  });
export type CreateEvidenceInput = z.input<typeof createEvidenceSchema>;

/** Input of `evidence.update`: what may change after the fact (not the project, not the author). */
export const updateEvidenceSchema = z
  .strictObject({
    taskId: uuidSchema.nullable().optional(),
    title: z.string().trim().min(1).max(500).optional(),
    content: z.string().min(1).max(100_000).nullable().optional(),
    reference: z.string().min(1).max(2048).nullable().optional(),
    credibility: credibilitySchema.optional(),
    tags: tagsSchema.optional(),
    metadata: jsonObjectSchema.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'name at least one field to change');
export type UpdateEvidenceInput = z.input<typeof updateEvidenceSchema>;

/** Input of `evidence.list`: most credible first, of a project or a task, optionally filtered. */
export const listEvidenceSchema = z.strictObject({
  projectId: uuidSchema.optional(),
  taskId: uuidSchema.optional(),
  sourceType: z.enum(EVIDENCE_SOURCE_TYPES).optional(),
  verified: z.boolean().optional(),
  /** Only evidence carrying every one of these tags. */
  tags: z.array(evidenceTagSchema).min(1).max(20).optional(),
  ...pageFields,
});
export type ListEvidenceInput = z.input<typeof listEvidenceSchema>;

/** Input of `evidence.link`: a link from one piece of evidence to another (stored once for the pair). */
export const linkEvidenceSchema = z.strictObject({
  otherId: uuidSchema,
  kind: z.enum(EVIDENCE_LINK_KINDS),
  note: z.string().min(1).max(2000).optional(),
});
export type LinkEvidenceInput = z.input<typeof linkEvidenceSchema>;

/** Input of `evidence.cite`: evidence of the run's project that the run's work rests on. */
export const citeEvidenceSchema = z.strictObject({
  evidenceId: uuidSchema,
  /** Why the run cites it. */
  note: z.string().min(1).max(2000).optional(),
});
export type CiteEvidenceInput = z.input<typeof citeEvidenceSchema>;

/** Input of `evidence.cited` (a run's citations, most credible first) and `evidence.citingRuns` (newest first). */
export const listCitationsSchema = z.strictObject({ ...pageFields });
export type ListCitationsInput = z.input<typeof listCitationsSchema>;
