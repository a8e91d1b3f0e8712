import { and, asc, eq, getTableColumns, gt, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import {
  jsonObjectSchema,
  nameSchema,
  parseId,
  parseInput,
  repoUrlSchema,
  slugSchema,
} from '../shared/validation.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { type Project, projects } from './projects.schema.ts';

const projectFields = {
  name: nameSchema,
  description: z.string().max(10_000).nullable().optional(),
  repoUrl: repoUrlSchema.nullable().optional(),
  defaultBranch: z.string().min(1).max(255).optional(),
  techStack: z.array(z.string().min(1).max(100)).max(100).optional(),
  config: jsonObjectSchema.optional(),
  githubInstallationId: z.number().int().positive().nullable().optional(),
  mvpDocument: z.string().max(1_000_000).nullable().optional(),
  qualityMetrics: jsonObjectSchema.optional(),
};
const createProjectSchema = z.strictObject({ slug: slugSchema, ...projectFields });
export type CreateProjectInput = z.input<typeof createProjectSchema>;
const updateProjectSchema = z.strictObject({
  ...projectFields,
  name: nameSchema.optional(),
  slug: slugSchema.optional(),
});
export type UpdateProjectInput = z.input<typeof updateProjectSchema>;
const listProjectsSchema = z.strictObject({
  status: z.enum(['active', 'archived']).optional(),
  afterSlug: slugSchema.optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type ListProjectsInput = z.input<typeof listProjectsSchema>;

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
const softDelete = compileStatement({ id: projects.id }, ['id'], (db, p) =>
  db
    .update(projects)
    .set({ status: 'deleted', deletedAt: sql`now()` })
    .where(and(eq(projects.id, p.id), live))
    .returning({ id: projects.id }),
);

/** Projects of the current tenant. Deleted projects are invisible here; their slugs are free again. */
export const projectsRepository = {
  /** Creates a project; the database counts it against the tenant's `projects` quota (ForbiddenError when full). */
  async create(tx: TenantTx, input: CreateProjectInput): Promise<Project> {
    const values = parseInput(createProjectSchema, input, 'project');
    const [row] = await tx.db
      .insert(projects)
      .values({ ...values, tenantId: tx.tenantId })
      .returning();
    return row!;
  },

  async get(tx: TenantTx, id: string): Promise<Project> {
    const projectId = parseId(id, 'project');
    const [row] = await selectById.run(tx, { id: projectId });
    if (!row) throw new NotFoundError('project', projectId);
    return row;
  },

  async getBySlug(tx: TenantTx, slug: string): Promise<Project> {
    const value = parseInput(slugSchema, slug, 'project slug');
    const [row] = await selectBySlug.run(tx, { slug: value });
    if (!row) throw new NotFoundError('project', value);
    return row;
  },

  /** Live projects in slug order; pass the last slug as `afterSlug` for the next page. */
  async list(tx: TenantTx, input: ListProjectsInput = {}): Promise<Project[]> {
    const query = parseInput(listProjectsSchema, input, 'project list');
    const conditions: SQL[] = [live];
    if (query.status) conditions.push(eq(projects.status, query.status));
    if (query.afterSlug) conditions.push(gt(projects.slug, query.afterSlug));
    return tx.db
      .select()
      .from(projects)
      .where(and(...conditions))
      .orderBy(asc(projects.slug))
      .limit(query.limit);
  },

  async update(tx: TenantTx, id: string, patch: UpdateProjectInput): Promise<Project> {
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

  async archive(tx: TenantTx, id: string): Promise<Project> {
    return setArchived(tx, id, true);
  },

  async unarchive(tx: TenantTx, id: string): Promise<Project> {
    return setArchived(tx, id, false);
  },

  /** Soft delete: the row stays for the audit trail and stops counting against the quota. */
  async softDelete(tx: TenantTx, id: string): Promise<void> {
    const projectId = parseId(id, 'project');
    const [row] = await softDelete.run(tx, { id: projectId });
    if (!row) throw new NotFoundError('project', projectId);
  },
};

async function setArchived(tx: TenantTx, id: string, archived: boolean): Promise<Project> {
  const projectId = parseId(id, 'project');
  const from = archived ? 'active' : 'archived';
  const [row] = await (archived ? archive : unarchive).run(tx, { id: projectId });
  if (row) return row;
  const current = await projectsRepository.get(tx, projectId);
  throw new ConflictError('invalid_transition', `project ${projectId} is ${current.status}, not ${from}`, {
    entity: 'project',
  });
}
