import { z } from 'zod';
import { agentTypeSchema } from '../agents/agents.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema } from '../shared/validation.ts';

/** A pattern's type: lowercase letters, digits, `_` and `-` (e.g. `recurring_error`, `success`). */
export const patternTypeSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$/,
    'lowercase letters, digits, inner "_" and "-", at most 50 characters',
  );

/**
 * Input of `patterns.record`: a pattern seen once more. Type, agent type and key identify it (the
 * key compared without case and with whitespace collapsed); the first description is kept, the
 * newest example replaces the one before.
 */
export const recordPatternSchema = z.strictObject({
  patternType: patternTypeSchema,
  agentType: agentTypeSchema.nullable().optional(),
  key: z
    .string()
    .transform((key) => key.normalize('NFC'))
    .pipe(z.string().trim().min(1).max(500)),
  description: z.string().trim().min(1).max(5000),
  example: jsonObjectSchema.nullable().optional(),
});
export type RecordPatternInput = z.input<typeof recordPatternSchema>;

/** Input of `patterns.list`: most frequent first, of one type and agent type. */
export const listPatternsSchema = z.strictObject({
  patternType: patternTypeSchema.optional(),
  agentType: agentTypeSchema.optional(),
  ...pageFields,
});
export type ListPatternsInput = z.input<typeof listPatternsSchema>;
