import { and, asc, eq, getTableColumns, gt, like, type Placeholder, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../engine/engine.ts';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { belongsToLiveProject } from './live-project.ts';
import {
  filePathSchema,
  type ListFilesInput,
  listFilesSchema,
  type UpsertFileInput,
  upsertFileSchema,
} from './project-files.contract.ts';
import { type ProjectFile, type ProjectFileSummary, projectFiles } from './project-files.schema.ts';

// Paths are unique within a project: the path alone orders and resumes the list.
const filesKey = z.tuple([filePathSchema]);

const columns = getTableColumns(projectFiles);
const { content: _content, ...summaryColumns } = columns;

const upsertFile = compileStatement(columns, ['tenantId', 'projectId', 'path', 'content'], (db, p) =>
  db
    .insert(projectFiles)
    .values({ tenantId: p.tenantId, projectId: p.projectId, path: p.path, content: p.content })
    .onConflictDoUpdate({
      target: [projectFiles.tenantId, projectFiles.projectId, projectFiles.path],
      // excluded.content rather than the value again: a file of 10 MiB is sent once.
      set: { content: sql.raw('excluded.content') },
    })
    .returning(),
);
/** The file at `path` of a live project. */
const fileOfLiveProject = (db: Database, projectId: Placeholder, path: Placeholder) =>
  and(
    eq(projectFiles.projectId, projectId),
    eq(projectFiles.path, path),
    belongsToLiveProject(db, projectFiles.tenantId, projectFiles.projectId),
  );
const selectFile = compileStatement(columns, ['projectId', 'path'], (db, p) =>
  db
    .select()
    .from(projectFiles)
    .where(fileOfLiveProject(db, p.projectId, p.path)),
);
const deleteFile = compileStatement({ id: projectFiles.id }, ['projectId', 'path'], (db, p) =>
  db
    .delete(projectFiles)
    .where(fileOfLiveProject(db, p.projectId, p.path))
    .returning({ id: projectFiles.id }),
);

/** Files of a project, unique by path: writing a path again replaces its content. */
export const projectFilesRepository = {
  async upsert(tx: TenantScope, input: UpsertFileInput): Promise<ProjectFile> {
    const values = parseInput(upsertFileSchema, input, 'project file');
    const [row] = await upsertFile.run(tx, { ...values, tenantId: tx.tenantId });
    return row!;
  },

  async get(tx: TenantScope, projectId: string, path: string): Promise<ProjectFile> {
    const project = parseId(projectId, 'project');
    const filePath = parseInput(filePathSchema, path, 'file path');
    const [row] = await selectFile.run(tx, { projectId: project, path: filePath });
    if (!row) throw new NotFoundError('project file', `${project}:${filePath}`);
    return row;
  },

  /** One page of the files' path, hash and size (not the content), in path order, optionally under a folder. */
  async list(
    tx: TenantScope,
    projectId: string,
    input: ListFilesInput = {},
  ): Promise<Page<ProjectFileSummary>> {
    const project = parseId(projectId, 'project');
    const query = parseInput(listFilesSchema, input, 'file list');
    const conditions = [
      eq(projectFiles.projectId, project),
      belongsToLiveProject(tx.db, projectFiles.tenantId, projectFiles.projectId),
    ];
    if (query.under) conditions.push(like(projectFiles.path, `${query.under.replace(/[\\%_]/g, '\\$&')}/%`));
    if (query.cursor) {
      const [path] = decodeCursor('project files', query.cursor, filesKey);
      conditions.push(gt(projectFiles.path, path));
    }
    const rows = await tx.db
      .select(summaryColumns)
      .from(projectFiles)
      .where(and(...conditions))
      .orderBy(asc(projectFiles.path))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'project files', (row) => [row.path]);
  },

  async delete(tx: TenantScope, projectId: string, path: string): Promise<void> {
    const project = parseId(projectId, 'project');
    const filePath = parseInput(filePathSchema, path, 'file path');
    const removed = await deleteFile.run(tx, { projectId: project, path: filePath });
    if (removed.length === 0) throw new NotFoundError('project file', `${project}:${filePath}`);
  },
};
