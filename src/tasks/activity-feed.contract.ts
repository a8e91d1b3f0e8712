import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

/**
 * Input of `activityFeed.list`: a project's feed (or one task's), newest first; `publicOnly` leaves
 * out the private entries. The feed is written by the database alone: there is no input to add one.
 */
export const listActivitySchema = z.strictObject({
  projectId: uuidSchema,
  taskId: uuidSchema.optional(),
  publicOnly: z.boolean().default(false),
  ...pageFields,
});
export type ListActivityInput = z.input<typeof listActivitySchema>;
