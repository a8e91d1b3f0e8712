import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

/** The public part of a key (`afk_<keyPrefix>_<secret>`): 16 hex digits. */
export const keyPrefixSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits');

/** How long a rotated key keeps working when the caller names no grace period: 24 hours. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 60 * 60;
/** The longest grace period a rotation may give the key it replaces: 7 days. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 60 * 60;

const futureDate = z.date().refine((date) => date.getTime() > Date.now(), 'must be in the future');

/** Input of `agentCredentials.issue`: a key for an agent, valid until `expiresAt` (or until revoked). */
export const issueAgentKeySchema = z.strictObject({
  agentId: uuidSchema,
  expiresAt: futureDate.optional(),
});
export type IssueAgentKeyInput = z.input<typeof issueAgentKeySchema>;

/**
 * Input of `agentCredentials.rotate`: a new key for the agent; its live keys (or the one named by
 * `keyPrefix`) keep working for `graceSeconds` more (0 ends them now), then expire.
 */
export const rotateAgentKeySchema = z.strictObject({
  agentId: uuidSchema,
  keyPrefix: keyPrefixSchema.optional(),
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_ROTATION_GRACE_SECONDS)
    .default(DEFAULT_ROTATION_GRACE_SECONDS),
  expiresAt: futureDate.optional(),
});
export type RotateAgentKeyInput = z.input<typeof rotateAgentKeySchema>;

/** Input of `agentCredentials.revoke`: the agent's live keys, or the one named by `keyPrefix`, at once. */
export const revokeAgentKeySchema = z.strictObject({
  agentId: uuidSchema,
  keyPrefix: keyPrefixSchema.optional(),
});
export type RevokeAgentKeyInput = z.input<typeof revokeAgentKeySchema>;

/** Input of `agentCredentials.list`: the tenant's keys (of one agent), in key-prefix order. */
export const listAgentCredentialsSchema = z.strictObject({
  agentId: uuidSchema.optional(),
  ...pageFields,
});
export type ListAgentCredentialsInput = z.input<typeof listAgentCredentialsSchema>;

/** The request a key is presented with, recorded in its usage row. */
export const keyRequestSchema = z.strictObject({
  requestId: z.string().min(1).max(512).optional(),
  /** Also a rate-limit key: kept short. */
  clientAddress: z.string().min(1).max(256).optional(),
  userAgent: z.string().min(1).max(512).optional(),
});
export type KeyRequest = z.input<typeof keyRequestSchema>;
