import { pageSchema, rowSchema } from '../http/openapi.ts';
import {
  idParams,
  type JsonSchema,
  type TenantRoute,
  type TenantRouteContext,
  tenantRoute,
} from '../http/route.ts';
import { isoDateSchema, parseInput } from '../shared/validation.ts';
import {
  issueAgentKeySchema,
  type ListAgentCredentialsInput,
  listAgentCredentialsSchema,
  revokeAgentKeySchema,
  rotateAgentKeySchema,
} from './agent-credentials.contract.ts';
import type { IssuedAgentKey } from './agent-credentials.repository.ts';
import { type AgentCredential, agentCredentials } from './agent-credentials.schema.ts';

const credential = rowSchema(agentCredentials, ['secretHash']);
const credentials = { type: 'array', items: credential } satisfies JsonSchema;
const byAgent = idParams('agentId');
const tag = 'agent-keys';

// The contracts without the agent (it is in the path), with times as ISO text.
const issueBody = issueAgentKeySchema.omit({ agentId: true }).extend({ expiresAt: isoDateSchema.optional() });
const rotateBody = rotateAgentKeySchema
  .omit({ agentId: true })
  .extend({ expiresAt: isoDateSchema.optional() });
const revokeBody = revokeAgentKeySchema.omit({ agentId: true });

const issued = {
  type: 'object',
  properties: {
    key: { type: 'string', description: 'the full API key (`afk_…`), shown in this response only' },
    credential,
  },
  required: ['key', 'credential'],
} satisfies JsonSchema;

/**
 * Why issuing and rotating refuse an Idempotency-Key: a replay would need the response, and so the
 * key, stored in clear (in idempotency_keys). A retry issues another key; a lost one can be revoked
 * by its prefix.
 */
const SHOWN_ONCE = 'the response holds a new API key, which is shown once and never stored';

/** The response that shows a new key, the only one that ever does: never cached. */
function revealOnce({ reply }: TenantRouteContext, key: IssuedAgentKey) {
  reply.header('cache-control', 'no-store');
  return { key: key.key.reveal(), credential: key.credential };
}

/** Keys that stopped working here are verified afresh at once, not trusted from the server's cache. */
function forget({ services }: TenantRouteContext, ended: readonly AgentCredential[]): void {
  for (const row of ended) services.forgetCredential(row.id);
}

/** API keys of the tenant's agents over HTTP; an agent acting for itself sees and changes only its own. */
export const agentCredentialRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/keys',
    operationId: 'agentCredentials.issue',
    covers: ['agentCredentials.issue'],
    tag,
    summary: 'Issue an API key for a live agent: the full key is in this response only',
    params: byAgent,
    body: issueBody,
    refusesIdempotencyKey: SHOWN_ONCE,
    status: 201,
    response: issued,
    handler: async (ctx) => {
      const input = parseInput(issueBody, ctx.body, 'request body');
      return revealOnce(ctx, await ctx.tx.agentCredentials.issue({ ...input, agentId: ctx.params.agentId! }));
    },
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/keys/rotate',
    operationId: 'agentCredentials.rotate',
    covers: ['agentCredentials.rotate'],
    tag,
    summary:
      'Issue a new key; the agent’s live keys (or the one of `keyPrefix`) keep working for `graceSeconds` (default 24 h; 0 ends them now)',
    params: byAgent,
    body: rotateBody,
    refusesIdempotencyKey: SHOWN_ONCE,
    status: 201,
    response: {
      type: 'object',
      properties: { ...issued.properties, replaced: credentials },
      required: [...issued.required, 'replaced'],
    },
    handler: async (ctx) => {
      const input = parseInput(rotateBody, ctx.body, 'request body');
      const rotated = await ctx.tx.agentCredentials.rotate({ ...input, agentId: ctx.params.agentId! });
      forget(ctx, rotated.replaced);
      return { ...revealOnce(ctx, rotated), replaced: rotated.replaced };
    },
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/agents/:agentId/keys/revoke',
    operationId: 'agentCredentials.revoke',
    covers: ['agentCredentials.revoke'],
    tag,
    summary: 'Revoke the agent’s live keys (or the one of `keyPrefix`) at once',
    params: byAgent,
    body: revokeBody,
    response: {
      type: 'object',
      properties: { revoked: credentials },
      required: ['revoked'],
    },
    handler: async (ctx) => {
      const input = parseInput(revokeBody, ctx.body, 'request body');
      const revoked = await ctx.tx.agentCredentials.revoke({ ...input, agentId: ctx.params.agentId! });
      forget(ctx, revoked);
      return { revoked };
    },
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agent-keys',
    operationId: 'agentCredentials.list',
    singleStatement: true,
    covers: ['agentCredentials.list'],
    tag,
    summary: 'List the tenant’s keys (of one agent), revoked and expired ones included, by prefix',
    query: listAgentCredentialsSchema,
    response: pageSchema(credential),
    handler: ({ tx, query }) => tx.agentCredentials.list(query as ListAgentCredentialsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/agent-keys/:credentialId',
    operationId: 'agentCredentials.get',
    singleStatement: true,
    covers: ['agentCredentials.get'],
    tag,
    summary: 'Read a key’s public record (never its secret)',
    params: idParams('credentialId'),
    response: credential,
    handler: ({ tx, params }) => tx.agentCredentials.get(params.credentialId!),
  }),
];
