import { createHash } from 'node:crypto';
import { getTableColumns, type Table } from 'drizzle-orm';
import { retryAfterMs } from '../coordination/rate-limiter.ts';
import { AuthenticationError, ForbiddenError, NotFoundError } from '../errors/index.ts';
import { rowSchema } from '../http/openapi.ts';
import { bearerToken, type LoginSessionData, type Principal } from '../http/principal.ts';
import type { ApiRoute, JsonSchema } from '../http/route.ts';
import { parseInput } from '../shared/validation.ts';
import type { ServiceTx } from '../store/unit-of-work.ts';
import { type LoginInput, loginSchema } from './login-sessions.contract.ts';
import { type Tenant, type TenantStatus, tenants } from './tenants.schema.ts';
import { type User, users } from './users.schema.ts';

/**
 * Failed logins a client address, and an email, may make: a burst of 10, then one more every
 * minute. Spent, a login is refused before its password is checked.
 */
export const LOGIN_FAILURE_LIMIT = { name: 'api-login-failures', limit: 10, windowMs: 10 * 60_000 };
// The statuses agentflow.require_usable_tenant lets tenant work run in.
const USABLE_TENANT: readonly TenantStatus[] = ['pending', 'active'];
const tag = 'auth';

/** The JSON Schema of the `keep` columns of a row of `table`. */
const columnsOf = (table: Table, keep: readonly string[]): JsonSchema =>
  rowSchema(
    table,
    Object.keys(getTableColumns(table)).filter((column) => !keep.includes(column)),
  );

const loginResponse: JsonSchema = {
  type: 'object',
  properties: {
    token: { type: 'string', description: 'send as `Authorization: Bearer <token>`; shown once' },
    expiresAt: {
      type: 'string',
      format: 'date-time',
      description: 'moves forward with every request (rolling expiry)',
    },
    user: columnsOf(users, ['id', 'email', 'name']),
    tenant: columnsOf(tenants, ['id', 'slug', 'name']),
  },
  required: ['token', 'expiresAt', 'user', 'tenant'],
};

const whoamiResponse: JsonSchema = {
  type: 'object',
  properties: {
    kind: { enum: ['agent', 'user'] },
    tenantId: { type: 'string', format: 'uuid' },
    actor: {
      type: 'object',
      properties: { type: { enum: ['agent', 'user'] }, id: { type: 'string', format: 'uuid' } },
      required: ['type', 'id'],
    },
    credentialId: { type: 'string', format: 'uuid', description: "the API key's id (agents only)" },
  },
  required: ['kind', 'tenantId', 'actor'],
};

/**
 * The failure budgets a login spends: its client address's and its (normalised) email's, the email
 * as a hash so that the coordination store never holds who tried to log in.
 */
export function loginFailureKeys(clientAddress: string, email: string): string[] {
  return [`address:${clientAddress}`, `email:${createHash('sha256').update(email).digest('base64url')}`];
}

const absentIfNotFound = (error: unknown): undefined => {
  if (error instanceof NotFoundError) return undefined;
  throw error;
};

/**
 * The user and tenant of a login, or undefined. The password is checked first and always (an
 * unknown email is checked against a decoy hash), so every refusal costs one password hash and
 * takes about as long as any other.
 */
async function verifyLogin(
  svc: ServiceTx,
  input: LoginInput,
): Promise<{ user: User; tenant: Tenant } | undefined> {
  const user = await svc.users.verifyPassword(input.email, input.password);
  const tenant = await svc.tenants.getBySlug(input.tenant).catch(absentIfNotFound);
  if (!user || !tenant || !USABLE_TENANT.includes(tenant.status)) return undefined;
  const membership = await svc.memberships.get(tenant.id, user.id).catch(absentIfNotFound);
  return membership && { user, tenant };
}

/** The member behind a login session; an agent's key has none to end. */
function member(principal: Principal): Principal & { kind: 'user' } {
  if (principal.kind !== 'user')
    throw new ForbiddenError(
      'permission_denied',
      'an API key has no login session to end: revoke the key to stop it working',
    );
  return principal;
}

/** Login sessions of human members, and whoever is calling. */
export const loginSessionRoutes: readonly ApiRoute[] = [
  {
    kind: 'public',
    method: 'POST',
    path: '/v1/auth/login',
    operationId: 'auth.login',
    tag,
    summary:
      'Sign in to a tenant with email and password: a session token with rolling expiry. Any refusal is the same 401 `invalid_credentials`; repeated failures per address or email are 429',
    body: loginSchema,
    status: 201,
    response: loginResponse,
    handler: async ({ store, coordination, body, request, reply }) => {
      const input = parseInput(loginSchema, body, 'login');
      const failures = coordination.rateLimiter(LOGIN_FAILURE_LIMIT);
      const limitKeys = loginFailureKeys(request.ip, input.email);
      const wait = await retryAfterMs(failures, limitKeys);
      if (wait > 0)
        throw new AuthenticationError('rate_limited', `too many failed logins: retry in ${wait} ms`, {
          retryAfterMs: wait,
        });
      const verified = await store.asService({ actor: 'api:login' }, (svc) => verifyLogin(svc, input));
      if (!verified) {
        await Promise.all(limitKeys.map((key) => failures.consume(key)));
        throw new AuthenticationError(
          'invalid_credentials',
          'the email, password or tenant is wrong, or the tenant is suspended',
        );
      }
      const { user, tenant } = verified;
      const session = await coordination.sessions.create<LoginSessionData>(user.id, { tenantId: tenant.id });
      reply.header('cache-control', 'no-store');
      return {
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        user: { id: user.id, email: user.email, name: user.name },
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      };
    },
  },
  {
    kind: 'session',
    method: 'POST',
    path: '/v1/auth/logout',
    operationId: 'auth.logout',
    tag,
    summary: 'End the login session presented (403 for an API key)',
    status: 204,
    handler: async ({ coordination, principal, request }) => {
      member(principal);
      // authenticate() found a session for this very token.
      await coordination.sessions.destroy(bearerToken(request.headers.authorization)!);
    },
  },
  {
    kind: 'session',
    method: 'POST',
    path: '/v1/auth/logout-all',
    operationId: 'auth.logoutAll',
    tag,
    summary: 'End every login session of the calling member, in every tenant (403 for an API key)',
    response: {
      type: 'object',
      properties: { ended: { type: 'integer', description: 'sessions ended, this one included' } },
      required: ['ended'],
    },
    handler: async ({ coordination, principal }) => ({
      ended: await coordination.sessions.destroyAllForUser(member(principal).actor.id),
    }),
  },
  {
    kind: 'session',
    method: 'GET',
    path: '/v1/whoami',
    operationId: 'auth.whoami',
    tag,
    summary: 'Who the credential acts as: the agent of an API key or the member of a login session',
    response: whoamiResponse,
    handler: async ({ principal }) => ({
      kind: principal.kind,
      tenantId: principal.tenantId,
      actor: { type: principal.actor.type, id: principal.actor.id },
      ...(principal.kind === 'agent' ? { credentialId: principal.credentialId } : {}),
    }),
  },
];
