import { z } from 'zod';
import { uuidSchema } from '../shared/validation.ts';

/** Input of `taskQueue.next` and `taskQueue.claim`: optionally only one project's work. */
export const taskQueueSchema = z.strictObject({
  projectId: uuidSchema.optional(),
});
export type TaskQueueInput = z.input<typeof taskQueueSchema>;
