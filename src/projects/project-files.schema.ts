import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { projects } from './projects.schema.ts';

export const projectFiles = pgTable(
  'project_files',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    projectId: uuid('project_id').notNull(),
    path: text('path').notNull(),
    content: text('content').notNull(),
    contentHash: text('content_hash').notNull().generatedAlwaysAs(sql`agentflow.sha256_hex(content)`),
    sizeBytes: integer('size_bytes').notNull().generatedAlwaysAs(sql`octet_length(content)`),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table, { project: [table.projectId, projects] }),
    unique('project_files_path_key').on(table.tenantId, table.projectId, table.path),
    check('project_files_path_check', sql`char_length(${table.path}) BETWEEN 1 AND 1024`),
    check('project_files_content_check', sql`octet_length(${table.content}) <= 10485760`),
  ],
);

export type ProjectFile = typeof projectFiles.$inferSelect;
/** A file without its content, as lists return it. */
export type ProjectFileSummary = Omit<ProjectFile, 'content'>;
