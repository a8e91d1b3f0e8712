import { z } from 'zod';
import { eventPayloadSchemas, mentionsSchema, metadataSchema } from '../events/events.contract.ts';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';
import { WORK_SESSION_STATUSES } from './work-sessions.schema.ts';

/** Input of `workSessions.start`. */
export const startWorkSessionSchema = z.strictObject({
  agentId: uuidSchema,
  projectId: uuidSchema,
  metadata: metadataSchema.optional(),
  /** How many of the events that mention the agent since its last session to return (newest first). */
  updatesLimit: pageFields.limit,
});
export type StartWorkSessionInput = z.input<typeof startWorkSessionSchema>;

/** Input of `workSessions.log`: a session_log event in the session, by the session's agent. */
export const logWorkSessionSchema = z.strictObject({
  ...eventPayloadSchemas.session_log.shape,
  mentions: mentionsSchema.optional(),
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
