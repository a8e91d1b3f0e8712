import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';

/** The deepest a transitive walk goes; a chain longer than this is cut at this depth. */
export const MAX_GRAPH_DEPTH = 1000;
/** The most open tasks of one project the whole-graph queries (topological order, critical path) take. */
export const MAX_GRAPH_TASKS = 20000;

/** Input of `taskDependencies.add` and `.remove`: `taskId` cannot start before `dependsOnId` is done. */
export const taskDependencySchema = z.strictObject({
  taskId: uuidSchema,
  dependsOnId: uuidSchema,
});
export type TaskDependencyInput = z.input<typeof taskDependencySchema>;

/** Input of `taskDependencies.list`: a task's direct edges, one direction, by the other end's id. */
export const listTaskDependenciesSchema = z.strictObject({
  taskId: uuidSchema,
  /** `dependencies`: what the task waits for (default); `dependents`: what waits for it. */
  direction: z.enum(['dependencies', 'dependents']).default('dependencies'),
  ...pageFields,
});
export type ListTaskDependenciesInput = z.input<typeof listTaskDependenciesSchema>;

/** Input of `taskDependencies.dependencies` / `.dependents`: the transitive walk, nearest first. */
export const transitiveTasksSchema = z.strictObject({
  /** How many edges away at most (1 = direct only). */
  maxDepth: z.number().int().min(1).max(MAX_GRAPH_DEPTH).default(100),
  ...pageFields,
});
export type TransitiveTasksInput = z.input<typeof transitiveTasksSchema>;

/** Input of `taskDependencies.readyTasks`: a project's startable tasks, in work-queue order. */
export const readyTasksSchema = z.strictObject({
  projectId: uuidSchema,
  ...pageFields,
});
export type ReadyTasksInput = z.input<typeof readyTasksSchema>;

/** Input of `taskDependencies.topologicalOrder`. */
export const topologicalOrderSchema = z.strictObject({
  projectId: uuidSchema,
  ...pageFields,
});
export type TopologicalOrderInput = z.input<typeof topologicalOrderSchema>;
