import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sqlValues } from '../shared/check-values.ts';
import {
  primaryKeyName,
  scopedIdColumn,
  tenantForeignKeyName,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { secretText } from '../shared/secret.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { agents } from './agents.schema.ts';

/**
 * API keys of agents (`afk_<keyPrefix>_<secret>`): the public prefix finds the row, the secret is
 * stored only as its SHA-256. Verified by agentflow.authenticate_agent_key (migration 8).
 */
export const agentCredentials = pgTable(
  'agent_credentials',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    agentId: uuid('agent_id').notNull(),
    keyPrefix: text('key_prefix').notNull(),
    /** Not readable by any application role; never returned by a repository. */
    secretHash: secretText('secret_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { agent: [table.agentId, agents] }),
    uniqueIndex('agent_credentials_prefix_key').on(table.keyPrefix),
    index('agent_credentials_agent_idx').on(table.tenantId, table.agentId),
    check('agent_credentials_key_prefix_check', sql`${table.keyPrefix} ~ '^[0-9a-f]{16}$'`),
    check('agent_credentials_secret_hash_check', sql`${table.secretHash} ~ '^[0-9a-f]{64}$'`),
  ],
);

/** A key as the library hands it out: everything but the hash of its secret. */
export type AgentCredential = Omit<typeof agentCredentials.$inferSelect, 'secretHash'>;

/** What one verification of a key came to (agent_credential_uses.outcome). */
export const CREDENTIAL_USE_OUTCOMES = [
  'success',
  'unknown_key',
  'wrong_secret',
  'revoked',
  'expired',
  'agent_unavailable',
  'tenant_unavailable',
] as const;
export type CredentialUseOutcome = (typeof CREDENTIAL_USE_OUTCOMES)[number];

/**
 * One row per verification, written only by agentflow.authenticate_agent_key; append-only. Keyed
 * (tenant_id, occurred_at, id) like audit_logs; a failure naming no known key has NO_TENANT_ID.
 */
export const agentCredentialUses = pgTable(
  'agent_credential_uses',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    credentialId: uuid('credential_id'),
    agentId: uuid('agent_id'),
    keyPrefix: text('key_prefix'),
    outcome: text('outcome', { enum: CREDENTIAL_USE_OUTCOMES }).notNull(),
    requestId: text('request_id'),
    clientAddress: text('client_address'),
    userAgent: text('user_agent'),
  },
  (table) => [
    primaryKey({
      name: primaryKeyName('agent_credential_uses'),
      columns: [table.tenantId, table.occurredAt, table.id],
    }),
    // Gone with its key (a purged agent or tenant); a failure naming no key has none to follow.
    foreignKey({
      name: tenantForeignKeyName('agent_credential_uses', 'credential'),
      columns: [table.tenantId, table.credentialId],
      foreignColumns: [agentCredentials.tenantId, agentCredentials.id],
    }).onDelete('cascade'),
    index('agent_credential_uses_credential_idx').on(table.tenantId, table.credentialId, table.occurredAt),
    check('agent_credential_uses_key_prefix_check', sql`${table.keyPrefix} ~ '^[0-9a-f]{16}$'`),
    check(
      'agent_credential_uses_outcome_check',
      sql`${table.outcome} IN (${sqlValues(CREDENTIAL_USE_OUTCOMES)})`,
    ),
    check('agent_credential_uses_request_id_check', sql`char_length(${table.requestId}) <= 512`),
    check('agent_credential_uses_client_address_check', sql`char_length(${table.clientAddress}) <= 512`),
    check('agent_credential_uses_user_agent_check', sql`char_length(${table.userAgent}) <= 512`),
  ],
);

export type AgentCredentialUse = typeof agentCredentialUses.$inferSelect;
