import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, nameSchema, repoUrlSchema, slugSchema } from '../shared/validation.ts';

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

/** Input of `projects.create`. */
export const createProjectSchema = z.strictObject({ slug: slugSchema, ...projectFields });
export type CreateProjectInput = z.input<typeof createProjectSchema>;

/** Input of `projects.update`: any subset of the fields. */
export const updateProjectSchema = z.strictObject({
  ...projectFields,
  name: nameSchema.optional(),
  slug: slugSchema.optional(),
});
export type UpdateProjectInput = z.input<typeof updateProjectSchema>;

/** Input of `projects.list`: live projects, or those of one status, in slug order. */
export const listProjectsSchema = z.strictObject({
  status: z.enum(['active', 'archived']).optional(),
  ...pageFields,
});
export type ListProjectsInput = z.input<typeof listProjectsSchema>;
