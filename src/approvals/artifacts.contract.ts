import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import {
  ARTIFACT_APPROVAL_STATUSES,
  ARTIFACT_CONTENT_MAX_BYTES,
  ARTIFACT_TYPES,
} from './artifacts.schema.ts';

/** C0/C1 control characters and bidirectional controls: nothing a path should hold. */
const UNSAFE_PATH_CHARACTER = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Where the artifact lives: a file path in the repository, or a storage path or URL. */
export const artifactPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((path) => !UNSAFE_PATH_CHARACTER.test(path), 'must not contain control or bidirectional characters')
  .refine(
    (path) => path.trim() === path && path.trim() !== '',
    'must not be blank or start or end with whitespace',
  );

/** A media type as `type/subtype` in lower case (`text/x-diff`, `application/json`). */
export const contentTypeSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/, 'a media type such as text/markdown, in lower case');

const ARTIFACT_METADATA_MAX_BYTES = 64 * 1024;

/** Input of `artifacts.create`. The creator is the unit's actor; the approval status is the database's. */
export const createArtifactSchema = z
  .strictObject({
    taskId: uuidSchema,
    executionId: uuidSchema.optional(),
    type: z.enum(ARTIFACT_TYPES),
    path: artifactPathSchema,
    /** The content itself, when it is stored here (at most 1 MiB as UTF-8). */
    content: z
      .string()
      .refine(
        (content) => Buffer.byteLength(content, 'utf8') <= ARTIFACT_CONTENT_MAX_BYTES,
        `at most ${ARTIFACT_CONTENT_MAX_BYTES} bytes as UTF-8`,
      )
      .optional(),
    contentType: contentTypeSchema.optional(),
    /** The size of content stored elsewhere; with `content`, it must be the content's byte length. */
    sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    metadata: jsonObjectSchema
      .refine(
        (metadata) => Buffer.byteLength(JSON.stringify(metadata), 'utf8') <= ARTIFACT_METADATA_MAX_BYTES,
        `must not exceed ${ARTIFACT_METADATA_MAX_BYTES} bytes as JSON`,
      )
      .optional(),
  })
  .refine(
    (input) =>
      input.content === undefined ||
      input.sizeBytes === undefined ||
      input.sizeBytes === Buffer.byteLength(input.content, 'utf8'),
    { path: ['sizeBytes'], message: 'must be the byte length of content (or be left out)' },
  );
export type CreateArtifactInput = z.input<typeof createArtifactSchema>;

/** Input of `artifacts.list`: oldest first, of a task, an execution or the tenant, optionally by approval status. */
export const listArtifactsSchema = z.strictObject({
  taskId: uuidSchema.optional(),
  executionId: uuidSchema.optional(),
  approvalStatus: z.enum(ARTIFACT_APPROVAL_STATUSES).optional(),
  ...pageFields,
});
export type ListArtifactsInput = z.input<typeof listArtifactsSchema>;
