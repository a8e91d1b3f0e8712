import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  foreignKey,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { taskExecutions } from '../executions/task-executions.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { users } from '../tenancy/users.schema.ts';

export const EVIDENCE_SOURCE_TYPES = [
  'code_analysis',
  'test_result',
  'ai_output',
  'documentation',
  'user_feedback',
  'external_reference',
  'log',
  'metric',
  'other',
] as const;
export type EvidenceSourceType = (typeof EVIDENCE_SOURCE_TYPES)[number];

export const EVIDENCE_LINK_KINDS = ['related', 'contradicts'] as const;
export type EvidenceLinkKind = (typeof EVIDENCE_LINK_KINDS)[number];

const ACTOR_TYPES = ['user', 'agent'] as const;

export const evidence = pgTable(
  'evidence',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    projectId: uuid('project_id').notNull(),
    taskId: uuid('task_id'),
    sourceType: text('source_type', { enum: EVIDENCE_SOURCE_TYPES }).notNull(),
    title: text('title').notNull(),
    content: text('content'),
    /** Where the evidence is (a URL, a path, a commit) when its content is not stored. */
    reference: text('reference'),
    /** 0–1, as exact decimal text (numeric(4,3)). */
    credibility: numeric('credibility', { precision: 4, scale: 3 }).notNull().default('0.5'),
    isVerified: boolean('is_verified').notNull().default(false),
    verifiedByType: text('verified_by_type', { enum: ACTOR_TYPES }),
    verifiedById: uuid('verified_by_id'),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdByType: text('created_by_type', { enum: ACTOR_TYPES }),
    createdById: uuid('created_by_id'),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { project: [table.projectId, projects], task: [table.taskId, tasks] }),
    index('evidence_task_idx')
      .on(table.tenantId, table.taskId, table.credibility.desc(), table.id)
      .where(sql`task_id IS NOT NULL`),
    index('evidence_project_idx').on(table.tenantId, table.projectId, table.credibility.desc(), table.id),
    check('evidence_source_type_check', sql`${table.sourceType} IN (${sqlValues(EVIDENCE_SOURCE_TYPES)})`),
    check('evidence_title_check', sql`char_length(${table.title}) BETWEEN 1 AND 500`),
    check('evidence_content_check', sql`char_length(${table.content}) <= 100000`),
    check('evidence_reference_check', sql`char_length(${table.reference}) BETWEEN 1 AND 2048`),
    check('evidence_credibility_check', sql`${table.credibility} BETWEEN 0 AND 1`),
    check('evidence_verified_by_type_check', sql`${table.verifiedByType} IN (${sqlValues(ACTOR_TYPES)})`),
    check('evidence_tags_check', sql`cardinality(${table.tags}) <= 50`),
    check('evidence_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check('evidence_created_by_type_check', sql`${table.createdByType} IN (${sqlValues(ACTOR_TYPES)})`),
    check('evidence_has_substance', sql`${table.content} IS NOT NULL OR ${table.reference} IS NOT NULL`),
    check(
      'evidence_verification',
      sql`${table.isVerified} = (${table.verifiedAt} IS NOT NULL) AND (${table.verifiedAt} IS NULL) = (${table.verifiedByType} IS NULL) AND (${table.verifiedByType} IS NULL) = (${table.verifiedById} IS NULL)`,
    ),
  ],
);

export type Evidence = typeof evidence.$inferSelect;

/** A link between two pieces of evidence, stored once with the pair in id order. */
export const evidenceLinks = pgTable(
  'evidence_links',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    lowId: uuid('low_id').notNull(),
    highId: uuid('high_id').notNull(),
    kind: text('kind', { enum: EVIDENCE_LINK_KINDS }).notNull(),
    note: text('note'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'evidence_links_pkey', columns: [table.tenantId, table.lowId, table.highId] }),
    foreignKey({
      name: 'evidence_links_low_fk',
      columns: [table.tenantId, table.lowId],
      foreignColumns: [evidence.tenantId, evidence.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'evidence_links_high_fk',
      columns: [table.tenantId, table.highId],
      foreignColumns: [evidence.tenantId, evidence.id],
    }).onDelete('cascade'),
    index('evidence_links_high_idx').on(table.tenantId, table.highId),
    check('evidence_links_kind_check', sql`${table.kind} IN (${sqlValues(EVIDENCE_LINK_KINDS)})`),
    check('evidence_links_note_check', sql`char_length(${table.note}) BETWEEN 1 AND 2000`),
    check('evidence_links_ordered', sql`${table.lowId} < ${table.highId}`),
  ],
);

export type EvidenceLink = typeof evidenceLinks.$inferSelect;

/**
 * The evidence a run cites: written once, while the run is open, by its agent or a human member
 * (the database sets the citer and the time from the unit's actor).
 */
export const executionEvidence = pgTable(
  'execution_evidence',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    executionId: uuid('execution_id').notNull(),
    evidenceId: uuid('evidence_id').notNull(),
    note: text('note'),
    citedByAgentId: uuid('cited_by_agent_id'),
    citedByUserId: uuid('cited_by_user_id'),
    citedAt: timestamp('cited_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({
      name: 'execution_evidence_pkey',
      columns: [table.tenantId, table.executionId, table.evidenceId],
    }),
    foreignKey({
      name: 'execution_evidence_execution_fk',
      columns: [table.tenantId, table.executionId],
      foreignColumns: [taskExecutions.tenantId, taskExecutions.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'execution_evidence_evidence_fk',
      columns: [table.tenantId, table.evidenceId],
      foreignColumns: [evidence.tenantId, evidence.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'execution_evidence_agent_fk',
      columns: [table.tenantId, table.citedByAgentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'execution_evidence_user_fk',
      columns: [table.citedByUserId],
      foreignColumns: [users.id],
    }),
    index('execution_evidence_evidence_idx').on(
      table.tenantId,
      table.evidenceId,
      table.citedAt,
      table.executionId,
    ),
    index('execution_evidence_agent_idx')
      .on(table.tenantId, table.citedByAgentId)
      .where(sql`cited_by_agent_id IS NOT NULL`),
    index('execution_evidence_member_idx')
      .on(table.tenantId, table.citedByUserId)
      .where(sql`cited_by_user_id IS NOT NULL`),
    check('execution_evidence_note_check', sql`char_length(${table.note}) BETWEEN 1 AND 2000`),
    check(
      'execution_evidence_one_citer',
      sql`num_nonnulls(${table.citedByAgentId}, ${table.citedByUserId}) <= 1`,
    ),
  ],
);

export type ExecutionEvidence = typeof executionEvidence.$inferSelect;
