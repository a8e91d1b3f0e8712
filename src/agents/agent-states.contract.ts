import { z } from 'zod';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';

/** Input of `agentStates.save`. */
export const saveAgentStateSchema = z.strictObject({
  projectId: uuidSchema,
  state: jsonObjectSchema,
  /** The version the caller read; null when it expects no state to exist yet. */
  expectedVersion: z.number().int().min(1).nullable(),
});
export type SaveAgentStateInput = z.input<typeof saveAgentStateSchema>;
