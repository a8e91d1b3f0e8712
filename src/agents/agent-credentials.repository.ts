import { and, asc, eq, getTableColumns, gt, isNull, ne, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import type { Secret } from '../shared/secret.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type IssueAgentKeyInput,
  issueAgentKeySchema,
  type ListAgentCredentialsInput,
  listAgentCredentialsSchema,
  type RevokeAgentKeyInput,
  type RotateAgentKeyInput,
  revokeAgentKeySchema,
  rotateAgentKeySchema,
} from './agent-credentials.contract.ts';
import { generateAgentKey } from './agent-credentials.keys.ts';
import { type AgentCredential, agentCredentials } from './agent-credentials.schema.ts';
import { agents } from './agents.schema.ts';

const { secretHash: _secret, ...publicColumns } = getTableColumns(agentCredentials);
const credentialsKey = z.tuple([z.string()]);

/** A key just issued: `key` is its full text, shown this once (a Secret: logs show `[redacted]`). */
export interface IssuedAgentKey {
  key: Secret;
  credential: AgentCredential;
}

/** A rotation: the new key, and the keys it replaces with the end of their grace period. */
export interface RotatedAgentKey extends IssuedAgentKey {
  replaced: AgentCredential[];
}

/** Keys that still open the door: not revoked, not expired. */
const live: SQL = and(
  isNull(agentCredentials.revokedAt),
  or(isNull(agentCredentials.expiresAt), gt(agentCredentials.expiresAt, sql`now()`)),
)!;

type Unit = TenantScope | ServiceScope;

async function insertKey(
  tx: Unit,
  tenantId: string,
  agentId: string,
  expiresAt: Date | undefined,
): Promise<IssuedAgentKey> {
  // A key for an agent that cannot use it is refused here; verification refuses it anyway.
  const [agent] = await tx.db
    .select({ id: agents.id })
    .from(agents)
    .where(
      and(
        eq(agents.tenantId, tenantId),
        eq(agents.id, agentId),
        isNull(agents.deletedAt),
        ne(agents.status, 'terminated'),
      ),
    );
  if (!agent) throw new NotFoundError('agent', agentId);
  const { key, prefix, secretHash } = generateAgentKey();
  const [credential] = await tx.db
    .insert(agentCredentials)
    .values({ tenantId, agentId, keyPrefix: prefix, secretHash, expiresAt: expiresAt ?? null })
    .returning(publicColumns);
  return { key, credential: credential! };
}

function ofAgent(tenantId: string, agentId: string, keyPrefix: string | undefined): SQL {
  return and(
    eq(agentCredentials.tenantId, tenantId),
    eq(agentCredentials.agentId, agentId),
    keyPrefix === undefined ? undefined : eq(agentCredentials.keyPrefix, keyPrefix),
  )!;
}

async function issue(tx: Unit, tenantId: string, input: IssueAgentKeyInput): Promise<IssuedAgentKey> {
  const { agentId, expiresAt } = parseInput(issueAgentKeySchema, input, 'agent key');
  return insertKey(tx, tenantId, agentId, expiresAt);
}

async function rotate(tx: Unit, tenantId: string, input: RotateAgentKeyInput): Promise<RotatedAgentKey> {
  const { agentId, keyPrefix, graceSeconds, expiresAt } = parseInput(
    rotateAgentKeySchema,
    input,
    'agent key rotation',
  );
  const graceEnd = sql`now() + make_interval(secs => ${graceSeconds})`;
  const replaced = await tx.db
    .update(agentCredentials)
    .set({
      rotatedAt: sql`now()`,
      expiresAt: sql`least(coalesce(${agentCredentials.expiresAt}, 'infinity'), ${graceEnd})`,
    })
    .where(and(ofAgent(tenantId, agentId, keyPrefix), live))
    .returning(publicColumns);
  if (keyPrefix !== undefined && replaced.length === 0)
    throw new NotFoundError('agent credential', keyPrefix);
  return { ...(await insertKey(tx, tenantId, agentId, expiresAt)), replaced };
}

async function revoke(tx: Unit, tenantId: string, input: RevokeAgentKeyInput): Promise<AgentCredential[]> {
  const { agentId, keyPrefix } = parseInput(revokeAgentKeySchema, input, 'agent key revocation');
  const revoked = await tx.db
    .update(agentCredentials)
    .set({ revokedAt: sql`now()` })
    .where(and(ofAgent(tenantId, agentId, keyPrefix), isNull(agentCredentials.revokedAt)))
    .returning(publicColumns);
  if (revoked.length === 0) throw new NotFoundError('agent credential', keyPrefix ?? `of agent ${agentId}`);
  return revoked;
}

/**
 * API keys of the tenant's agents. The hash of a key's secret never leaves the database: no
 * statement here reads it, and the app role may not select it. An agent acting for itself sees and
 * changes only its own keys (a restrictive policy, migration 8).
 */
export const agentCredentialsRepository = {
  /** A new key for a live agent; the full key is in the result only. */
  issue: (tx: TenantScope, input: IssueAgentKeyInput) => issue(tx, tx.tenantId, input),

  /**
   * A new key; the agent's live keys (or the one named) keep working for the grace period (24 h
   * unless `graceSeconds` says otherwise, at most 7 days), then expire. An earlier expiry stays.
   */
  rotate: (tx: TenantScope, input: RotateAgentKeyInput) => rotate(tx, tx.tenantId, input),

  /** Ends the agent's live keys (or the one named) at once. */
  revoke: (tx: TenantScope, input: RevokeAgentKeyInput) => revoke(tx, tx.tenantId, input),

  async get(tx: TenantScope, id: string): Promise<AgentCredential> {
    const credentialId = parseId(id, 'agent credential');
    const [row] = await tx.db
      .select(publicColumns)
      .from(agentCredentials)
      .where(eq(agentCredentials.id, credentialId));
    if (!row) throw new NotFoundError('agent credential', credentialId);
    return row;
  },

  /** Every key of the tenant (or of one agent), revoked and expired ones included, by prefix. */
  async list(tx: TenantScope, input: ListAgentCredentialsInput = {}): Promise<Page<AgentCredential>> {
    const query = parseInput(listAgentCredentialsSchema, input, 'agent credential list');
    const conditions: SQL[] = [];
    if (query.agentId) conditions.push(eq(agentCredentials.agentId, query.agentId));
    if (query.cursor) {
      const [prefix] = decodeCursor('agent credentials', query.cursor, credentialsKey);
      conditions.push(gt(agentCredentials.keyPrefix, prefix));
    }
    const rows = await tx.db
      .select(publicColumns)
      .from(agentCredentials)
      .where(and(...conditions))
      .orderBy(asc(agentCredentials.keyPrefix))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'agent credentials', (row) => [row.keyPrefix]);
  },
};

/** Operators' side (`asService`, audited as service): the same verbs for a tenant named by id. */
export const agentCredentialAdminRepository = {
  issue: (tx: ServiceScope, tenantId: string, input: IssueAgentKeyInput) =>
    issue(tx, parseId(tenantId, 'tenant'), input),
  rotate: (tx: ServiceScope, tenantId: string, input: RotateAgentKeyInput) =>
    rotate(tx, parseId(tenantId, 'tenant'), input),
  revoke: (tx: ServiceScope, tenantId: string, input: RevokeAgentKeyInput) =>
    revoke(tx, parseId(tenantId, 'tenant'), input),
};
