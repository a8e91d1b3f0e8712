import { z } from 'zod';

/** How long a key answers with its first response: a retry after this runs the request again. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/** An `Idempotency-Key`: 1 to 255 visible ASCII characters (a UUID is the usual choice). */
export const idempotencyKeySchema = z.string().regex(/^[!-~]{1,255}$/, '1 to 255 visible ASCII characters');

/** Input of `idempotencyKeys.claim`. */
export const claimIdempotencyKeySchema = z.strictObject({
  key: idempotencyKeySchema,
  /** SHA-256 (hex) of what makes two requests the same: actor, method, path and body. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'),
});
export type ClaimIdempotencyKeyInput = z.input<typeof claimIdempotencyKeySchema>;

/** Input of `idempotencyKeys.complete`: the response to give every retry. */
export const completeIdempotencyKeySchema = z.strictObject({
  key: idempotencyKeySchema,
  status: z.number().int().min(200).max(299),
  /** The response body as sent (JSON text), or null for none. */
  body: z.string().nullable(),
});
export type CompleteIdempotencyKeyInput = z.input<typeof completeIdempotencyKeySchema>;

/** A committed response, replayed for a retry. */
export interface StoredResponse {
  status: number;
  body: string | null;
}
