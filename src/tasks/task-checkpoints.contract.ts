import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema } from '../shared/validation.ts';

const labelSchema = z.string().min(1).max(200);

/** Input of `taskCheckpoints.create(taskId, input)`: the state to keep; the database numbers and links it. */
export const createTaskCheckpointSchema = z.strictObject({
  state: jsonObjectSchema,
  label: labelSchema.optional(),
});
export type CreateTaskCheckpointInput = z.input<typeof createTaskCheckpointSchema>;

/** Input of `taskCheckpoints.restore(taskId, checkpointId, input)`. */
export const restoreTaskCheckpointSchema = z.strictObject({ label: labelSchema.optional() });
export type RestoreTaskCheckpointInput = z.input<typeof restoreTaskCheckpointSchema>;

/** Input of `taskCheckpoints.list(taskId, input)`: the task's history, in sequence order. */
export const listTaskCheckpointsSchema = z.strictObject({ ...pageFields });
export type ListTaskCheckpointsInput = z.input<typeof listTaskCheckpointsSchema>;
