import { z } from 'zod';
import { EVENT_METADATA_MAX_BYTES, eventPayloadSchemas } from '../events/events.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { WORK_SESSION_STATUSES } from './work-sessions.schema.ts';

const sessionMetadataSchema = jsonObjectSchema.refine(
  (metadata) => Buffer.byteLength(JSON.stringify(metadata), 'utf8') <= EVENT_METADATA_MAX_BYTES,
  `must not exceed ${EVENT_METADATA_MAX_BYTES} bytes as JSON`,
);

/** Input of `workSessions.start`. */
export const startWorkSessionSchema = z.strictObject({
  agentId: uuidSchema,
  projectId: uuidSchema,
  metadata: sessionMetadataSchema.optional(),
  /** How many of the events that mention the agent since its last session to return (newest first). */
  updatesLimit: pageFields.limit,
});
export type StartWorkSessionInput = z.input<typeof startWorkSessionSchema>;

/** Input of `workSessions.log`: a session_log event in the session, by the session's agent. */
export const logWorkSessionSchema = z.strictObject({
  ...eventPayloadSchemas.session_log.shape,
  mentions: z
    .array(uuidSchema)
    .max(100)
    .refine((ids) => new Set(ids).size === ids.length, 'must not name an agent twice')
    .optional(),
});
export type LogWorkSessionInput = z.input<typeof logWorkSessionSchema>;

/** Input of `workSessions.list`: newest first, of one agent or one project (or all), optionally only open ones. */
export const listWorkSessionsSchema = z.strictObject({
  agentId: uuidSchema.optional(),
  projectId: uuidSchema.optional(),
  status: z.enum(WORK_SESSION_STATUSES).optional(),
  ...pageFields,
});
export type ListWorkSessionsInput = z.input<typeof listWorkSessionsSchema>;
