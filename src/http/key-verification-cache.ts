import { createHash } from 'node:crypto';
import type { AgentIdentity } from '../agents/agent-credentials.authenticate.ts';
import type { KeyRequest } from '../agents/agent-credentials.contract.ts';
import type { RateLimiter } from '../coordination/rate-limiter.ts';
import { ConfigurationError, NotFoundError } from '../errors/index.ts';
import type { Store } from '../store/store.ts';

/**
 * The longest a verified key is trusted without asking the database again, and so the longest a
 * key revoked or expired by another process (or by SQL) still authenticates here; the same bound
 * holds for a login session whose user stopped being a member. A revocation
 * through this server's own API takes effect at once (`forgetCredential`).
 */
export const MAX_KEY_CACHE_MS = 5000;
// Bounds the memory of a server that sees very many keys: past this it starts afresh.
const KEY_CACHE_LIMIT = 10_000;

interface Entry {
  identity: AgentIdentity;
  until: number;
}

/**
 * Verifies API keys through `store.authenticate` and remembers each success for `ttlMs`, so that a
 * busy agent's requests do not each cost a verification round trip. Keys are held by a SHA-256 of
 * their text, never as given. Failures are not remembered: each is verified and counted against
 * the failure rate limiter again. Concurrent requests with the same uncached key share one
 * verification.
 */
export class KeyVerificationCache {
  readonly #verified = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<AgentIdentity>>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly failureLimiter: RateLimiter | undefined,
  ) {
    if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_KEY_CACHE_MS)
      throw new ConfigurationError(
        `keyCacheMs must be a whole number of milliseconds from 0 to ${MAX_KEY_CACHE_MS}, not ${ttlMs}`,
      );
  }

  async verify(key: string, request: KeyRequest): Promise<AgentIdentity> {
    const digest = createHash('sha256').update(key).digest('base64url');
    const entry = this.#verified.get(digest);
    if (entry && entry.until > performance.now()) return entry.identity;
    if (entry) this.#verified.delete(digest);
    const pending = this.#pending.get(digest);
    if (pending) return pending;
    const verification = this.store
      .authenticate(key, { request, ...(this.failureLimiter ? { rateLimiter: this.failureLimiter } : {}) })
      .then((identity) => {
        if (this.ttlMs > 0) {
          if (this.#verified.size >= KEY_CACHE_LIMIT) this.#verified.clear();
          this.#verified.set(digest, { identity, until: performance.now() + this.ttlMs });
        }
        return identity;
      })
      .finally(() => this.#pending.delete(digest));
    this.#pending.set(digest, verification);
    return verification;
  }

  /** Stops trusting every cached key of this credential (it was revoked or rotated here). */
  forgetCredential(credentialId: string): void {
    for (const [digest, entry] of this.#verified)
      if (entry.identity.credentialId === credentialId) this.#verified.delete(digest);
  }
}

/**
 * Whether a login session's user is still a live member of the session's tenant: asked of the
 * database at most once per `ttlMs` per session, so a member removed (or a user deleted) loses
 * access within the same bound as a revoked key. Only positive answers are remembered.
 */
export class MembershipCheckCache {
  readonly #checked = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
  ) {}

  async isMember(tenantId: string, userId: string, sessionId: string): Promise<boolean> {
    const until = this.#checked.get(sessionId);
    if (until !== undefined && until > performance.now()) return true;
    const member = await this.store.asService({ actor: 'api:session check' }, async (svc) => {
      try {
        await svc.memberships.get(tenantId, userId);
        await svc.users.get(userId);
        return true;
      } catch (error) {
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    });
    if (member && this.ttlMs > 0) {
      if (this.#checked.size >= KEY_CACHE_LIMIT) this.#checked.clear();
      this.#checked.set(sessionId, performance.now() + this.ttlMs);
    } else this.#checked.delete(sessionId);
    return member;
  }
}
