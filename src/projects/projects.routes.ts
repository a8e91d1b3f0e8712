import { z } from 'zod';
import { pageSchema, rowSchema } from '../http/openapi.ts';
import { idParams, lockRowOf, type TenantRoute, tenantRoute } from '../http/route.ts';
import { slugSchema } from '../shared/validation.ts';
import {
  type CreateProjectInput,
  createProjectSchema,
  type ListProjectsInput,
  listProjectsSchema,
  type UpdateProjectInput,
  updateProjectSchema,
} from './projects.contract.ts';
import { projects } from './projects.schema.ts';

const project = rowSchema(projects);
const byId = idParams('projectId');
const tag = 'projects';

/** The projects of the caller's tenant over HTTP. */
export const projectRoutes: readonly TenantRoute[] = [
  tenantRoute({
    method: 'POST',
    path: '/v1/projects',
    operationId: 'projects.create',
    covers: ['projects.create'],
    tag,
    summary: 'Create a project (counts against the `projects` quota)',
    body: createProjectSchema,
    status: 201,
    response: project,
    handler: ({ tx, body }) => tx.projects.create(body as CreateProjectInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects',
    operationId: 'projects.list',
    singleStatement: true,
    covers: ['projects.list'],
    tag,
    summary: 'List live projects in slug order',
    query: listProjectsSchema,
    response: pageSchema(project),
    handler: ({ tx, query }) => tx.projects.list(query as ListProjectsInput),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/by-slug/:slug',
    operationId: 'projects.getBySlug',
    singleStatement: true,
    covers: ['projects.getBySlug'],
    tag,
    summary: 'Read a project by its slug',
    params: z.strictObject({ slug: slugSchema }),
    response: project,
    handler: ({ tx, params }) => tx.projects.getBySlug(params.slug!),
  }),
  tenantRoute({
    method: 'GET',
    path: '/v1/projects/:projectId',
    operationId: 'projects.get',
    singleStatement: true,
    covers: ['projects.get'],
    tag,
    summary: 'Read a project',
    params: byId,
    response: project,
    handler: ({ tx, params }) => tx.projects.get(params.projectId!),
  }),
  tenantRoute({
    method: 'PATCH',
    path: '/v1/projects/:projectId',
    operationId: 'projects.update',
    covers: ['projects.update'],
    tag,
    summary: 'Change a project (any subset of its fields)',
    params: byId,
    body: updateProjectSchema,
    response: project,
    ifMatch: {
      lock: lockRowOf(projects, 'projectId'),
      current: ({ tx, params }) => tx.projects.get(params.projectId!),
    },
    handler: ({ tx, params, body }) => tx.projects.update(params.projectId!, body as UpdateProjectInput),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/projects/:projectId/archive',
    operationId: 'projects.archive',
    covers: ['projects.archive'],
    tag,
    summary: 'Archive a project',
    params: byId,
    response: project,
    handler: ({ tx, params }) => tx.projects.archive(params.projectId!),
  }),
  tenantRoute({
    method: 'POST',
    path: '/v1/projects/:projectId/unarchive',
    operationId: 'projects.unarchive',
    covers: ['projects.unarchive'],
    tag,
    summary: 'Make an archived project active again',
    params: byId,
    response: project,
    handler: ({ tx, params }) => tx.projects.unarchive(params.projectId!),
  }),
  tenantRoute({
    method: 'DELETE',
    path: '/v1/projects/:projectId',
    operationId: 'projects.delete',
    covers: ['projects.delete'],
    tag,
    summary: 'Soft-delete a project (its slug is free again; the row stays for the audit trail)',
    params: byId,
    status: 204,
    handler: async ({ tx, params }) => {
      await tx.projects.delete(params.projectId!);
    },
  }),
];
