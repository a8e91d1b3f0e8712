import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';
import { TASK_ATTACHMENT_MAX_BYTES } from './task-attachments.schema.ts';

/** A control character (C0, DEL, C1). */
const CONTROL = /\p{Cc}/u;

/** Input of `taskAttachments.create(taskId, input)`. The uploader is the unit's actor, set by the database. */
export const createTaskAttachmentSchema = z.strictObject({
  /** Where the file is in object storage (a key or a URL); the bytes are not stored here. */
  storagePath: z
    .string()
    .min(1)
    .max(2048)
    .refine((path) => !CONTROL.test(path), 'must not contain control characters'),
  sizeBytes: z.number().int().min(0).max(TASK_ATTACHMENT_MAX_BYTES),
  /** A media type, `type/subtype` with optional parameters: `image/png`, `text/plain; charset=utf-8`. */
  contentType: z
    .string()
    .max(255)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*( *;[^\p{Cc}]*)?$/u,
      'a media type such as image/png',
    ),
  /** SHA-256 of the content, 64 lowercase hex digits. */
  checksumSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, '64 lowercase hexadecimal digits')
    .optional(),
  /** The evidence the file supports: of the tenant (NotFoundError otherwise). */
  evidenceId: uuidSchema.optional(),
});
export type CreateTaskAttachmentInput = z.input<typeof createTaskAttachmentSchema>;

/** Input of `taskAttachments.list(taskId, input)`: oldest first; deleted ones only when asked. */
export const listTaskAttachmentsSchema = z.strictObject({
  includeDeleted: z.boolean().default(false),
  ...pageFields,
});
export type ListTaskAttachmentsInput = z.input<typeof listTaskAttachmentsSchema>;
