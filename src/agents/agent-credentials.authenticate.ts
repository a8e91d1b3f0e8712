import { type RateLimiter, retryAfterMs } from '../coordination/rate-limiter.ts';
import { type AuthenticationCode, AuthenticationError } from '../errors/index.ts';
import { parseInput } from '../shared/validation.ts';
import type { Scope } from '../store/scope.ts';
import { type KeyRequest, keyRequestSchema } from './agent-credentials.contract.ts';
import { hashKeySecret, parseAgentKey } from './agent-credentials.keys.ts';
import type { CredentialUseOutcome } from './agent-credentials.schema.ts';

export interface AuthenticateOptions {
  /** Recorded in the usage row; `clientAddress` is also a rate-limit key. */
  request?: KeyRequest;
  /**
   * Counts failed attempts per client address and per key prefix; while either is out of budget,
   * attempts are refused (`rate_limited`, with `retryAfterMs`) without checking the key.
   */
  rateLimiter?: RateLimiter;
}

/** Whom a verified key belongs to. */
export interface AgentIdentity {
  tenantId: string;
  agentId: string;
  credentialId: string;
}

/** What the verification function tells its caller: an unknown prefix and a wrong secret alike. */
type VerificationOutcome = Exclude<CredentialUseOutcome, 'unknown_key' | 'wrong_secret'> | 'invalid_key';

interface VerificationRow {
  tenant_id: string | null;
  agent_id: string | null;
  credential_id: string | null;
  outcome: VerificationOutcome;
}

const VERIFY = `SELECT tenant_id, agent_id, credential_id, outcome
  FROM agentflow.authenticate_agent_key($1, $2, $3::jsonb)`;

const REFUSALS: Record<Exclude<VerificationOutcome, 'success'>, [AuthenticationCode, string]> = {
  invalid_key: ['invalid_key', 'invalid API key'],
  revoked: ['key_revoked', 'this API key has been revoked'],
  expired: ['key_expired', 'this API key has expired'],
  agent_unavailable: ['agent_unavailable', 'the agent of this API key is terminated or deleted'],
  tenant_unavailable: ['tenant_unavailable', 'the tenant of this API key is suspended or deleted'],
};

/**
 * Runs `work` in the verification's unit of work, with the request (as JSON) as its context
 * (Store.authenticate).
 */
export type VerificationUnit = <T>(work: (scope: Scope) => Promise<T>, requestJson: string) => Promise<T>;

/**
 * Verifies an agent's API key: the store runs `verify` in a unit of work as agentflow_app with no
 * tenant (see Store.authenticate), where only agentflow.authenticate_agent_key can find the key.
 * The secret is hashed here; the database compares hashes and writes the usage row.
 */
export async function authenticateAgentKey(
  key: unknown,
  options: AuthenticateOptions,
  verify: VerificationUnit,
): Promise<AgentIdentity> {
  const request = parseInput(keyRequestSchema, options.request ?? {}, 'authentication request');
  const parsed = parseAgentKey(key);
  const limiter = options.rateLimiter;
  const limitKeys = [
    ...(request.clientAddress === undefined ? [] : [`address:${request.clientAddress}`]),
    ...(parsed === undefined ? [] : [`key:${parsed.prefix}`]),
  ];
  if (limiter && limitKeys.length > 0) {
    const wait = await retryAfterMs(limiter, limitKeys);
    if (wait > 0)
      throw new AuthenticationError('rate_limited', `too many failed attempts: retry in ${wait} ms`, {
        retryAfterMs: wait,
      });
  }
  const requestJson = JSON.stringify(request);
  const params = [parsed?.prefix ?? null, parsed ? hashKeySecret(parsed.secret) : null, requestJson];
  const [row] = await verify((scope) => scope.query<VerificationRow>(VERIFY, params), requestJson);
  if (row?.outcome === 'success' && row.tenant_id && row.agent_id && row.credential_id)
    return { tenantId: row.tenant_id, agentId: row.agent_id, credentialId: row.credential_id };
  if (limiter) await Promise.all(limitKeys.map((limitKey) => limiter.consume(limitKey)));
  const [code, message] =
    REFUSALS[row?.outcome === undefined || row.outcome === 'success' ? 'invalid_key' : row.outcome];
  throw new AuthenticationError(code, message);
}
