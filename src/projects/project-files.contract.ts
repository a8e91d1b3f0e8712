import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { filePathSchema, uuidSchema } from '../shared/validation.ts';

export { filePathSchema };

export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** Input of `projectFiles.upsert`. */
export const upsertFileSchema = z.strictObject({
  projectId: uuidSchema,
  path: filePathSchema,
  content: z
    .string()
    .refine((content) => Buffer.byteLength(content, 'utf8') <= MAX_FILE_BYTES, 'at most 10 MiB'),
});
export type UpsertFileInput = z.input<typeof upsertFileSchema>;

/** Input of `projectFiles.list` (besides the project id): optionally only the files under a folder. */
export const listFilesSchema = z.strictObject({
  under: filePathSchema.optional(),
  ...pageFields,
});
export type ListFilesInput = z.input<typeof listFilesSchema>;
