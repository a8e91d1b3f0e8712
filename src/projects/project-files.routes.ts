import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, type TenantRoute, type TenantRouteContext, tenantRoute } from '../http/route.ts';
import { parseInput } from '../shared/validation.ts';
import {
  filePathSchema,
  type ListFilesInput,
  listFilesSchema,
  upsertFileSchema,
} from './project-files.contract.ts';
import { projectFiles } from './project-files.schema.ts';

const file = rowSchema(projectFiles);
const byProject = idParams('projectId');
/**
 * One file is named by a `path` query parameter (`?path=src/index.ts`), not a path segment: file
 * paths hold slashes, which a `{path}` parameter cannot carry unencoded and a wildcard cannot
 * describe in OpenAPI. The contract's filePathSchema refuses `..`, percent-encoded and fullwidth
 * dots included (422).
 */
const byPath = z.strictObject({ path: filePathSchema });
const tag = 'projects';

/** `ifMatch.lock` for the file at `?path=` (stored NFC-normalized, as the contract parses it). */
async function lockFile({ tx, params, query }: TenantRouteContext): Promise<void> {
  const path = parseInput(filePathSchema, query.path, 'file path');
  await tx.db
    .select({ id: projectFiles.id })
    .from(projectFiles)
    .where(
      and(
        eq(projectFiles.tenantId, tx.tenantId),
        eq(projectFiles.projectId, params.projectId!),
        eq(projectFiles.path, path),
      ),
    )
    .for('update');
}

/** The files of a project over HTTP, unique by path: PUT writes a path's content, creating it or replacing it. */
export const projectFileRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/files',
    operationId: 'projectFiles.list',
    singleStatement: true,
    covers: ['projectFiles.list'],
    tag,
    summary: "List a project's files (path, hash and size, not the content) in path order",
    params: byProject,
    query: listFilesSchema,
    response: pageSchema(rowSchema(projectFiles, ['content'])),
    handler: ({ tx, params, query }) => tx.projectFiles.list(params.projectId!, query as ListFilesInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId/file',
    operationId: 'projectFiles.get',
    singleStatement: true,
    covers: ['projectFiles.get'],
    tag,
    summary: 'Read the file at `path`, with its content',
    params: byProject,
    query: byPath,
    response: file,
    handler: ({ tx, params, query }) => tx.projectFiles.get(params.projectId!, query.path as string),
  }),
  tenantRoute({
    method: 'PUT',
    path: '/v1/projects/:projectId/file',
    operationId: 'projectFiles.upsert',
    covers: ['projectFiles.upsert'],
    tag,
    summary: 'Write the file at `path` (created, or its content replaced); at most 10 MiB',
    params: byProject,
    query: byPath,
    body: upsertFileSchema.pick({ content: true }),
    response: file,
    // With If-Match the file must exist: a precondition on a version of nothing is a 404.
    ifMatch: {
      lock: lockFile,
      current: ({ tx, params, query }) => tx.projectFiles.get(params.projectId!, query.path as string),
    },
    handler: ({ tx, params, query, body }) =>
      tx.projectFiles.upsert({
        projectId: params.projectId!,
        path: query.path as string,
        content: (body as { content: string }).content,
      }),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/projects/:projectId/file',
    operationId: 'projectFiles.delete',
    covers: ['projectFiles.delete'],
    tag,
    summary: 'Delete the file at `path`',
    params: byProject,
    query: byPath,
    status: 204,
    handler: async ({ tx, params, query }) => {
      await tx.projectFiles.delete(params.projectId!, query.path as string);
    },
  }),
];
