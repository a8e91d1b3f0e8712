import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { agents } from '../agents/agents.schema.ts';
import { projects } from '../projects/projects.schema.ts';
import { sqlValues } from '../shared/check-values.ts';
import {
  deletedAtColumn,
  scopedIdColumn,
  tenantIdColumn,
  tenantKeys,
  timestampColumns,
} from '../shared/columns.ts';

/** draft → pending_approval → approved | rejected; approved and rejected versions never change. */
export const WIKI_STATUSES = ['draft', 'pending_approval', 'approved', 'rejected'] as const;
export type WikiStatus = (typeof WIKI_STATUSES)[number];

/** Membership roles whose human may approve or reject a wiki proposal. */
export const WIKI_APPROVER_ROLES = ['owner', 'admin', 'manager'] as const;

/** The stored search document (never returned by the repository). */
const tsvector = customType<{ data: string; driverData: string }>({ dataType: () => 'tsvector' });

/**
 * One row per version of a wiki entry (migration 19). The versions of an entry share `entryId` (the
 * id of its first version); `parentVersionId` names the version an edit continues from.
 */
export const wikiEntries = pgTable(
  'wiki_entries',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    entryId: uuid('entry_id').notNull(),
    version: integer('version').notNull(),
    parentVersionId: uuid('parent_version_id'),
    projectId: uuid('project_id'),
    proposedByAgentId: uuid('proposed_by_agent_id').notNull(),
    status: text('status', { enum: WIKI_STATUSES }).notNull().default('draft'),
    title: text('title').notNull(),
    slug: text('slug').notNull(),
    content: text('content').notNull(),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    decidedBy: uuid('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    rejectionReason: text('rejection_reason'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The entry's soft delete (the same on every version); only approvers still read such versions. */
    deletedAt: deletedAtColumn(),
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, content), 'B')`,
    ),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, {
      entry: [table.entryId, table],
      parent_version: [table.parentVersionId, table],
      project: [table.projectId, projects],
      proposed_by_agent: [table.proposedByAgentId, agents],
    }),
    unique('wiki_entries_version_key').on(table.tenantId, table.entryId, table.version),
    uniqueIndex('wiki_entries_open_key')
      .on(table.tenantId, table.entryId)
      .where(sql`status = ANY (ARRAY['draft', 'pending_approval'])`),
    index('wiki_entries_parent_idx')
      .on(table.tenantId, table.parentVersionId)
      .where(sql`parent_version_id IS NOT NULL`),
    index('wiki_entries_project_idx').on(table.tenantId, table.projectId).where(sql`project_id IS NOT NULL`),
    index('wiki_entries_proposer_idx').on(table.tenantId, table.proposedByAgentId, table.createdAt),
    index('wiki_entries_status_idx').on(table.tenantId, table.status, table.createdAt, table.id),
    index('wiki_entries_search_idx')
      .using('gin', sql`(${table.search} || agentflow.tenant_lexeme(${table.tenantId}))`)
      .where(sql`status = 'approved'`),
    check('wiki_entries_version_check', sql`${table.version} >= 1`),
    check('wiki_entries_status_check', sql`${table.status} IN (${sqlValues(WIKI_STATUSES)})`),
    check('wiki_entries_title_check', sql`char_length(${table.title}) BETWEEN 1 AND 500`),
    check(
      'wiki_entries_slug_check',
      sql`char_length(${table.slug}) <= 200 AND ${table.slug} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`,
    ),
    check('wiki_entries_content_check', sql`char_length(${table.content}) BETWEEN 1 AND 100000`),
    check('wiki_entries_tags_check', sql`cardinality(${table.tags}) <= 50`),
    check(
      'wiki_entries_rejection_reason_check',
      sql`char_length(${table.rejectionReason}) BETWEEN 1 AND 2000`,
    ),
    check('wiki_entries_metadata_check', sql`jsonb_typeof(${table.metadata}) = 'object'`),
    check(
      'wiki_entries_lineage',
      sql`(${table.version} = 1) = (${table.parentVersionId} IS NULL) AND (${table.version} = 1) = (${table.entryId} = ${table.id})`,
    ),
    check(
      'wiki_entries_decision',
      sql`(${table.status} IN ('approved', 'rejected')) = (${table.decidedAt} IS NOT NULL) AND (${table.status} = 'rejected') = (${table.rejectionReason} IS NOT NULL)`,
    ),
  ],
);

/**
 * One row per entry with an approved version: its current version (the latest approved), the slug
 * and title unique per scope among current versions of live entries, and the view counter. Written
 * by the database; deleted with its entry.
 */
export const wikiPages = pgTable(
  'wiki_pages',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    projectId: uuid('project_id'),
    currentVersionId: uuid('current_version_id').notNull(),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    viewCount: bigint('view_count', { mode: 'number' }).notNull().default(0),
    lastViewedAt: timestamp('last_viewed_at', { withTimezone: true }),
    deletedAt: deletedAtColumn(),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, {
      entry: [table.id, wikiEntries],
      current_version: [table.currentVersionId, wikiEntries],
      project: [table.projectId, projects],
    }),
    uniqueIndex('wiki_pages_tenant_slug_key')
      .on(table.tenantId, table.slug)
      .where(sql`project_id IS NULL AND deleted_at IS NULL`),
    uniqueIndex('wiki_pages_project_slug_key')
      .on(table.tenantId, table.projectId, table.slug)
      .where(sql`project_id IS NOT NULL AND deleted_at IS NULL`),
    uniqueIndex('wiki_pages_tenant_title_key')
      .on(table.tenantId, table.title)
      .where(sql`project_id IS NULL AND deleted_at IS NULL`),
    uniqueIndex('wiki_pages_project_title_key')
      .on(table.tenantId, table.projectId, table.title)
      .where(sql`project_id IS NOT NULL AND deleted_at IS NULL`),
    index('wiki_pages_current_version_idx').on(table.tenantId, table.currentVersionId),
    check('wiki_pages_view_count_check', sql`${table.viewCount} >= 0`),
  ],
);

/** A version as the repository returns it (the search document left out). */
export type WikiEntry = Omit<typeof wikiEntries.$inferSelect, 'search'>;
export type WikiPage = typeof wikiPages.$inferSelect;
