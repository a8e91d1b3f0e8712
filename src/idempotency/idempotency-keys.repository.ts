import { and, eq, sql } from 'drizzle-orm';
import { ConflictError } from '../errors/index.ts';
import { parseInput } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type ClaimIdempotencyKeyInput,
  type CompleteIdempotencyKeyInput,
  claimIdempotencyKeySchema,
  completeIdempotencyKeySchema,
  IDEMPOTENCY_KEY_TTL_HOURS,
  type StoredResponse,
} from './idempotency-keys.contract.ts';
import { idempotencyKeys } from './idempotency-keys.schema.ts';

const expired = sql`${idempotencyKeys.createdAt} < now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})`;

/**
 * Idempotency keys of the current tenant. `claim` and `complete` run in the unit of work of the
 * request they guard, so a key is kept exactly when the request's writes are committed.
 */
export const idempotencyKeysRepository = {
  /**
   * Claims `key` for this unit of work, or returns the response a committed request stored under
   * it. A concurrent request with the same key waits here until the first commits (then gets its
   * response) or rolls back (then claims the key). The same key with another fingerprint (another
   * actor, path or body) is ConflictError `idempotency_key_reused`. A key older than the TTL is
   * claimed afresh.
   */
  async claim(tx: TenantScope, input: ClaimIdempotencyKeyInput): Promise<StoredResponse | undefined> {
    const { key, fingerprint } = parseInput(claimIdempotencyKeySchema, input, 'idempotency key claim');
    const claimed = await tx.db
      .insert(idempotencyKeys)
      .values({ tenantId: tx.tenantId, key, fingerprint })
      .onConflictDoUpdate({
        target: [idempotencyKeys.tenantId, idempotencyKeys.key],
        set: { fingerprint, responseStatus: null, responseBody: null, createdAt: sql`now()` },
        setWhere: expired,
      })
      .returning({ key: idempotencyKeys.key });
    if (claimed.length > 0) return undefined;
    // A new statement: under READ COMMITTED it sees the row the conflicting request committed.
    const [row] = await tx.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.tenantId, tx.tenantId), eq(idempotencyKeys.key, key)));
    if (!row || row.responseStatus === null)
      throw new ConflictError('lock_not_available', `idempotency key ${key} is in use: retry`, {
        entity: 'idempotency key',
        field: 'key',
      });
    if (row.fingerprint !== fingerprint)
      throw new ConflictError(
        'idempotency_key_reused',
        `idempotency key ${key} was used for another request (another actor, path or body): use a new key`,
        { entity: 'idempotency key', field: 'key' },
      );
    return { status: row.responseStatus, body: row.responseBody };
  },

  /** Stores the response of the request that claimed `key`. */
  async complete(tx: TenantScope, input: CompleteIdempotencyKeyInput): Promise<void> {
    const { key, status, body } = parseInput(completeIdempotencyKeySchema, input, 'idempotency key response');
    await tx.db
      .update(idempotencyKeys)
      .set({ responseStatus: status, responseBody: body })
      .where(and(eq(idempotencyKeys.tenantId, tx.tenantId), eq(idempotencyKeys.key, key)));
  },
};

/** Across tenants: removing keys past their TTL (they answer nothing any more). */
export const idempotencyKeyAdminRepository = {
  /** Deletes every key older than the TTL; returns how many. */
  async prune(tx: ServiceScope): Promise<number> {
    const rows = await tx.db.delete(idempotencyKeys).where(expired).returning({ key: idempotencyKeys.key });
    return rows.length;
  },
};
