import { and, asc, eq, getTableColumns, like, type Placeholder, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../engine/engine.ts';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { filePathSchema, parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { belongsToLiveProject } from './live-project.ts';
import { type ProjectFile, projectFiles } from './project-files.schema.ts';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;

const pathSchema = filePathSchema;
const upsertFileSchema = z.strictObject({
  projectId: uuidSchema,
  path: pathSchema,
  content: z
    .string()
    .refine((content) => Buffer.byteLength(content, 'utf8') <= MAX_FILE_BYTES, 'at most 10 MiB'),
});
export type UpsertFileInput = z.input<typeof upsertFileSchema>;

export type ProjectFileSummary = Omit<ProjectFile, 'content'>;

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
  async upsert(tx: TenantTx, input: UpsertFileInput): Promise<ProjectFile> {
    const values = parseInput(upsertFileSchema, input, 'project file');
    const [row] = await upsertFile.run(tx, { ...values, tenantId: tx.tenantId });
    return row!;
  },

  async get(tx: TenantTx, projectId: string, path: string): Promise<ProjectFile> {
    const project = parseId(projectId, 'project');
    const filePath = parseInput(pathSchema, path, 'file path');
    const [row] = await selectFile.run(tx, { projectId: project, path: filePath });
    if (!row) throw new NotFoundError('project file', `${project}:${filePath}`);
    return row;
  },

  /** Path, hash and size of each file (not the content), in path order, optionally under a folder. */
  async list(
    tx: TenantTx,
    projectId: string,
    options: { under?: string } = {},
  ): Promise<ProjectFileSummary[]> {
    const project = parseId(projectId, 'project');
    const under = options.under === undefined ? undefined : parseInput(pathSchema, options.under, 'folder');
    const conditions = [
      eq(projectFiles.projectId, project),
      belongsToLiveProject(tx.db, projectFiles.tenantId, projectFiles.projectId),
    ];
    if (under) conditions.push(like(projectFiles.path, `${under.replace(/[\\%_]/g, '\\$&')}/%`));
    return tx.db
      .select(summaryColumns)
      .from(projectFiles)
      .where(and(...conditions))
      .orderBy(asc(projectFiles.path));
  },

  async delete(tx: TenantTx, projectId: string, path: string): Promise<void> {
    const project = parseId(projectId, 'project');
    const filePath = parseInput(pathSchema, path, 'file path');
    const removed = await deleteFile.run(tx, { projectId: project, path: filePath });
    if (removed.length === 0) throw new NotFoundError('project file', `${project}:${filePath}`);
  },
};
