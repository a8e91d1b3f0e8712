import { sql } from 'drizzle-orm';
import { bigint, check, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { sqlValues } from '../shared/check-values.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';

export const PROJECT_STATUSES = ['active', 'archived', 'deleted'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const projects = pgTable(
  'projects',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    repoUrl: text('repo_url'),
    defaultBranch: text('default_branch').notNull().default('main'),
    techStack: jsonb('tech_stack').$type<string[]>().notNull().default([]),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: PROJECT_STATUSES }).notNull().default('active'),
    githubInstallationId: bigint('github_installation_id', { mode: 'number' }),
    mvpDocument: text('mvp_document'),
    qualityMetrics: jsonb('quality_metrics').$type<Record<string, unknown>>().notNull().default({}),
    ...timestampColumns(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    ...tenantKeys(table),
    uniqueIndex('projects_slug_live_key').on(table.tenantId, table.slug).where(sql`deleted_at IS NULL`),
    check('projects_slug_check', sql`${table.slug} ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`),
    check('projects_name_check', sql`char_length(${table.name}) BETWEEN 1 AND 200`),
    check('projects_description_check', sql`char_length(${table.description}) <= 10000`),
    check('projects_repo_url_check', sql`char_length(${table.repoUrl}) <= 2048`),
    check('projects_default_branch_check', sql`char_length(${table.defaultBranch}) BETWEEN 1 AND 255`),
    check('projects_tech_stack_check', sql`jsonb_typeof(${table.techStack}) = 'array'`),
    check('projects_config_check', sql`jsonb_typeof(${table.config}) = 'object'`),
    check('projects_status_check', sql`${table.status} IN (${sqlValues(PROJECT_STATUSES)})`),
    check('projects_quality_metrics_check', sql`jsonb_typeof(${table.qualityMetrics}) = 'object'`),
    check('projects_deleted_status', sql`(${table.status} = 'deleted') = (${table.deletedAt} IS NOT NULL)`),
  ],
);

export type Project = typeof projects.$inferSelect;
