import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** A relative path inside the repository: no leading slash, no `.`/`..` segments, no backslash or NUL. */
export const filePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (path) =>
      !path.startsWith('/') &&
      !/[\\\0]/.test(path) &&
      path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    'a relative path without empty, "." or ".." segments',
  );

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
