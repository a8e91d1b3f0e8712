import type { Actor } from '../store/actor.ts';

/** Who a request acts as, once its credential is verified: always one tenant, one actor. */
export type Principal =
  | {
      kind: 'agent';
      tenantId: string;
      actor: Actor & { type: 'agent' };
      /** The API key's id: the rate-limit key, and what a revocation through this server forgets. */
      credentialId: string;
    }
  | {
      kind: 'user';
      tenantId: string;
      actor: Actor & { type: 'user' };
      /** The login session's public id (a hash of its token): the rate-limit key. */
      sessionId: string;
    };

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(header: unknown): string | undefined {
  const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return match?.[1];
}

/** What a login session keeps: the tenant the member signed in to. */
export interface LoginSessionData {
  tenantId: string;
}

/** The key of a principal's own rate-limit budget. */
export function rateLimitKey(principal: Principal): string {
  return principal.kind === 'agent' ? `key:${principal.credentialId}` : `session:${principal.sessionId}`;
}
