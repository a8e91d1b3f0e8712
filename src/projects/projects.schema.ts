import { sql } from 'drizzle-orm';
import { bigint, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
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
  ],
);

export type Project = typeof projects.$inferSelect;
