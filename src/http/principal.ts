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

/** What a login session keeps: the tenant the member signed in to. */
export interface LoginSessionData {
  tenantId: string;
}

/** The key of a principal's own rate-limit budget. */
export function rateLimitKey(principal: Principal): string {
  return principal.kind === 'agent' ? `key:${principal.credentialId}` : `session:${principal.sessionId}`;
}
