import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { AGENT_TYPES, agents } from '../agents/agents.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

/** A stored tsvector: the database's, never read back by the repositories (its text form only). */
const tsvector = customType<{ data: string; driverData: string }>({ dataType: () => 'tsvector' });

/**
 * Seed 000's weighted moving average of outcomes: rate = KEEP × rate + NEW × outcome, the first
 * outcome setting it. The SQL of lessons.recordOutcome writes them as float8 literals.
 */
export const SUCCESS_RATE_KEEP = 0.8;
export const SUCCESS_RATE_NEW = 0.2;

export const lessons = pgTable(
  'lessons',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    category: text('category').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull(),
    details: text('details').notNull().default(''),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    sourceAgentType: text('source_agent_type', { enum: AGENT_TYPES }).notNull(),
    sourceAgentId: uuid('source_agent_id'),
    taskId: uuid('task_id'),
    confidence: doublePrecision('confidence').notNull().default(0.5),
    applicationCount: integer('application_count').notNull().default(0),
    /** How many outcomes moved successRate. */
    outcomeCount: integer('outcome_count').notNull().default(0),
    /** Null until the first outcome; then 0.8 × the previous rate + 0.2 × the outcome. */
    successRate: doublePrecision('success_rate'),
    humanValidated: boolean('human_validated').notNull().default(false),
    validatedBy: uuid('validated_by'),
    validatedAt: timestamp('validated_at', { withTimezone: true }),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, summary), 'B') || setweight(to_tsvector('english'::regconfig, details), 'C')`,
      ),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table, {
      source_agent: [table.sourceAgentId, agents],
      task: [table.taskId, tasks],
    }),
    index('lessons_list_idx').on(table.tenantId, table.createdAt, table.id).where(sql`deleted_at IS NULL`),
    index('lessons_category_idx')
      .on(table.tenantId, table.category, table.createdAt, table.id)
      .where(sql`deleted_at IS NULL`),
    index('lessons_source_agent_idx')
      .on(table.tenantId, table.sourceAgentId)
      .where(sql`source_agent_id IS NOT NULL`),
    index('lessons_task_idx').on(table.tenantId, table.taskId).where(sql`task_id IS NOT NULL`),
    index('lessons_search_idx')
      .using('gin', sql`(${table.searchVector} || agentflow.tenant_lexeme(${table.tenantId}))`)
      .where(sql`deleted_at IS NULL`),
    index('lessons_tags_idx').using('gin', table.tags).where(sql`deleted_at IS NULL`),
    check('lessons_category_check', sql`${table.category} ~ '^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$'`),
    check('lessons_title_check', sql`char_length(${table.title}) BETWEEN 1 AND 300`),
    check('lessons_summary_check', sql`char_length(${table.summary}) BETWEEN 1 AND 2000`),
    check('lessons_details_check', sql`char_length(${table.details}) <= 50000`),
    check('lessons_tags_check', sql`agentflow.valid_tags(${table.tags})`),
    check('lessons_source_agent_type_check', sql`${table.sourceAgentType} IN (${sqlValues(AGENT_TYPES)})`),
    check('lessons_confidence_check', sql`${table.confidence} BETWEEN 0 AND 1`),
    check('lessons_application_count_check', sql`${table.applicationCount} >= 0`),
    check('lessons_outcome_count_check', sql`${table.outcomeCount} >= 0`),
    check('lessons_success_rate_check', sql`${table.successRate} BETWEEN 0 AND 1`),
    check('lessons_outcomes', sql`(${table.outcomeCount} = 0) = (${table.successRate} IS NULL)`),
    check(
      'lessons_validated',
      sql`${table.humanValidated} = (${table.validatedBy} IS NOT NULL) AND (${table.validatedBy} IS NULL) = (${table.validatedAt} IS NULL)`,
    ),
  ],
);

/** A lesson as the repositories return it: every column but the search vector. */
export type Lesson = Omit<typeof lessons.$inferSelect, 'searchVector'>;
