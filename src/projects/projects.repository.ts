import { and, asc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, slugSchema, uuidSchema } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type CreateProjectInput,
  createProjectSchema,
  type ListProjectsInput,
  listProjectsSchema,
  type UpdateProjectInput,
  updateProjectSchema,
} from './projects.contract.ts';
import { type Project, projects } from './projects.schema.ts';

// Live slugs are unique, but the id keeps the key total whatever the filter.
const projectsKey = z.tuple([slugSchema, uuidSchema]);

const live = isNull(projects.deletedAt);
const columns = getTableColumns(projects);
const selectById = compileStatement(columns, ['id'], (db, p) =>
  db
    .select()
    .from(projects)
    .where(and(eq(projects.id, p.id), live)),
);
const selectBySlug = compileStatement(columns, ['slug'], (db, p) =>
  db
    .select()
    .from(projects)
    .where(and(eq(projects.slug, p.slug), live)),
);
const archive = compileStatement(columns, ['id'], (db, p) =>
  db
    .update(projects)
    .set({ status: 'archived', archivedAt: sql`now()` })
    .where(and(eq(projects.id, p.id), eq(projects.status, 'active')))
    .returning(),
);
const unarchive = compileStatement(columns, ['id'], (db, p) =>
  db
    .update(projects)
    .set({ status: 'active', archivedAt: null })
    .where(and(eq(projects.id, p.id), eq(projects.status, 'archived')))
    .returning(),
);
const softDeleteProject = compileStatement({ id: projects.id }, ['id'], (db, p) =>
  db
    .update(projects)
    .set({ status: 'deleted', deletedAt: sql`now()` })
    .where(and(eq(projects.id, p.id), live))
    .returning({ id: projects.id }),
);

/** Projects of the current tenant. Deleted projects are invisible here; their slugs are free again. */
export const projectsRepository = {
  /** Creates a project; the database counts it against the tenant's `projects` quota (ForbiddenError when full). */
  async create(tx: TenantScope, input: CreateProjectInput): Promise<Project> {
    const values = parseInput(createProjectSchema, input, 'project');
    const [row] = await tx.db
      .insert(projects)
      .values({ ...values, tenantId: tx.tenantId })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Project> {
    const projectId = parseId(id, 'project');
    const [row] = await selectById.run(tx, { id: projectId });
    if (!row) throw new NotFoundError('project', projectId);
    return row;
  },

  async getBySlug(tx: TenantScope, slug: string): Promise<Project> {
    const value = parseInput(slugSchema, slug, 'project slug');
    const [row] = await selectBySlug.run(tx, { slug: value });
    if (!row) throw new NotFoundError('project', value);
    return row;
  },

  /** One page of live projects (or those of one status) in slug order. */
  async list(tx: TenantScope, input: ListProjectsInput = {}): Promise<Page<Project>> {
    const query = parseInput(listProjectsSchema, input, 'project list');
    const conditions: SQL[] = [live];
    if (query.status) conditions.push(eq(projects.status, query.status));
    if (query.cursor) {
      const [slug, id] = decodeCursor('projects', query.cursor, projectsKey);
      conditions.push(sql`(${projects.slug}, ${projects.id}) > (${slug}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(projects)
      .where(and(...conditions))
      .orderBy(asc(projects.slug), asc(projects.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'projects', (row) => [row.slug, row.id]);
  },

  async update(tx: TenantScope, id: string, patch: UpdateProjectInput): Promise<Project> {
    const projectId = parseId(id, 'project');
    const values = parseInput(updateProjectSchema, patch, 'project update');
    if (Object.keys(values).length === 0) return projectsRepository.get(tx, projectId);
    const [row] = await tx.db
      .update(projects)
      .set(values)
      .where(and(eq(projects.id, projectId), live))
      .returning();
    if (!row) throw new NotFoundError('project', projectId);
    return row;
  },

  async archive(tx: TenantScope, id: string): Promise<Project> {
    return setArchived(tx, id, true);
  },

  async unarchive(tx: TenantScope, id: string): Promise<Project> {
    return setArchived(tx, id, false);
  },

  /** Soft delete: the row stays for the audit trail and stops counting against the quota. */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const projectId = parseId(id, 'project');
    const [row] = await softDeleteProject.run(tx, { id: projectId });
    if (!row) throw new NotFoundError('project', projectId);
  },
};

/** Projects across tenants, for operators who name a tenant's projects by slug (the CLI). */
export const projectAdminRepository = {
  async getBySlug(tx: ServiceScope, tenantId: string, slug: string): Promise<Project> {
    const tenant = parseId(tenantId, 'tenant');
    const value = parseInput(slugSchema, slug, 'project slug');
    const [row] = await tx.db
      .select()
      .from(projects)
      .where(and(eq(projects.tenantId, tenant), eq(projects.slug, value), live));
    if (!row) throw new NotFoundError('project', value);
    return row;
  },
};

async function setArchived(tx: TenantScope, id: string, archived: boolean): Promise<Project> {
  const projectId = parseId(id, 'project');
  const from = archived ? 'active' : 'archived';
  const [row] = await (archived ? archive : unarchive).run(tx, { id: projectId });
  if (row) return row;
  const current = await projectsRepository.get(tx, projectId);
  throw new ConflictError('invalid_transition', `project ${projectId} is ${current.status}, not ${from}`, {
    entity: 'project',
  });
}
