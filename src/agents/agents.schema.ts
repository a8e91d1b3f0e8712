import { sql } from 'drizzle-orm';
import {
  check,
  index,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

export const AGENT_LEVELS = ['organization', 'project'] as const;
export type AgentLevel = (typeof AGENT_LEVELS)[number];

/** The eleven agent types of the design (seed 000's agent_type). */
export const AGENT_TYPES = [
  'orchestrator',
  'project_manager',
  'architect',
  'analyst',
  'ui_designer',
  'frontend_dev',
  'backend_dev',
  'tester',
  'bug_fixer',
  'reviewer',
  'git_agent',
] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

export const AGENT_STATUSES = ['active', 'probation', 'inactive', 'terminated'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const agents = pgTable(
  'agents',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    projectId: uuid('project_id'),
    level: text('level', { enum: AGENT_LEVELS }).notNull(),
    type: text('type', { enum: AGENT_TYPES }).notNull(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    roleTitle: text('role_title').notNull(),
    status: text('status', { enum: AGENT_STATUSES }).notNull().default('active'),
    // Exact decimal text ('50.00'): a trust score is never a float.
    trustScore: numeric('trust_score', { precision: 5, scale: 2 }).notNull().default('50'),
    modelProvider: text('model_provider'),
    modelName: text('model_name'),
    capabilities: text('capabilities').array().notNull().default(sql`'{}'`),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    ...timestampColumns(),
    terminatedAt: timestamp('terminated_at', { withTimezone: true }),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table, { project: [table.projectId, projects] }),
    uniqueIndex('agents_code_key').on(table.tenantId, table.code),
    uniqueIndex('agents_org_name_live_key')
      .on(table.tenantId, table.name)
      .where(sql`project_id IS NULL AND deleted_at IS NULL`),
    uniqueIndex('agents_project_name_live_key')
      .on(table.tenantId, table.projectId, table.name)
      .where(sql`deleted_at IS NULL`),
    index('agents_capabilities_idx').using('gin', table.capabilities),
    check('agents_level_check', sql`${table.level} IN (${sqlValues(AGENT_LEVELS)})`),
    check('agents_type_check', sql`${table.type} IN (${sqlValues(AGENT_TYPES)})`),
    check('agents_code_check', sql`${table.code} ~ '^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$'`),
    check('agents_name_check', sql`char_length(${table.name}) BETWEEN 1 AND 200`),
    check('agents_role_title_check', sql`char_length(${table.roleTitle}) BETWEEN 1 AND 200`),
    check('agents_status_check', sql`${table.status} IN (${sqlValues(AGENT_STATUSES)})`),
    check('agents_trust_score_check', sql`${table.trustScore} BETWEEN 0 AND 100`),
    check('agents_model_provider_check', sql`char_length(${table.modelProvider}) BETWEEN 1 AND 100`),
    check('agents_model_name_check', sql`char_length(${table.modelName}) BETWEEN 1 AND 200`),
    check('agents_capabilities_check', sql`cardinality(${table.capabilities}) <= 100`),
    check('agents_settings_check', sql`jsonb_typeof(${table.settings}) = 'object'`),
    check('agents_level_project', sql`(${table.level} = 'organization') = (${table.projectId} IS NULL)`),
    check(
      'agents_terminated_at',
      sql`(${table.status} = 'terminated') = (${table.terminatedAt} IS NOT NULL)`,
    ),
  ],
);

export type Agent = typeof agents.$inferSelect;
