import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { AGENT_TYPES } from '../agents/agents.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

export const patterns = pgTable(
  'patterns',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    patternType: text('pattern_type').notNull(),
    agentType: text('agent_type', { enum: AGENT_TYPES }),
    /** What identifies the pattern within its type and agent type (normalised into the fingerprint). */
    patternKey: text('pattern_key').notNull(),
    description: text('description').notNull(),
    example: jsonb('example').$type<Record<string, unknown>>(),
    /** sha256 of type, agent type and the normalised key: computed by the database. */
    fingerprint: text('fingerprint')
      .notNull()
      .generatedAlwaysAs(
        sql`agentflow.sha256_hex(pattern_type || E'\\n' || coalesce(agent_type, '') || E'\\n' || lower(btrim(regexp_replace(pattern_key, '\\s+', ' ', 'g'))))`,
      ),
    frequency: integer('frequency').notNull().default(1),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull().defaultNow(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull().defaultNow(),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table),
    unique('patterns_fingerprint_key').on(table.tenantId, table.fingerprint),
    index('patterns_frequency_idx').on(table.tenantId, table.frequency, table.id),
    index('patterns_type_idx').on(table.tenantId, table.patternType, table.agentType),
    check('patterns_pattern_type_check', sql`${table.patternType} ~ '^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$'`),
    check('patterns_agent_type_check', sql`${table.agentType} IN (${sqlValues(AGENT_TYPES)})`),
    check(
      'patterns_pattern_key_check',
      sql`char_length(${table.patternKey}) BETWEEN 1 AND 500 AND btrim(${table.patternKey}) <> ''`,
    ),
    check('patterns_description_check', sql`char_length(${table.description}) BETWEEN 1 AND 5000`),
    check('patterns_frequency_check', sql`${table.frequency} >= 1`),
    check('patterns_example_check', sql`jsonb_typeof(${table.example}) = 'object'`),
    check('patterns_seen', sql`${table.lastSeen} >= ${table.firstSeen}`),
  ],
);

export type Pattern = typeof patterns.$inferSelect;
