import { and, asc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { projectsRepository } from '../projects/projects.repository.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type ListTaskDependenciesInput,
  listTaskDependenciesSchema,
  MAX_GRAPH_TASKS,
  type ReadyTasksInput,
  readyTasksSchema,
  type TaskDependencyInput,
  type TopologicalOrderInput,
  type TransitiveTasksInput,
  taskDependencySchema,
  topologicalOrderSchema,
  transitiveTasksSchema,
} from './task-dependencies.contract.ts';
import { type TaskDependency, taskDependencies } from './task-dependencies.schema.ts';
import { TASK_PRIORITIES, type Task, type TaskPriority, type TaskStatus, tasks } from './tasks.schema.ts';

// Vocabulary of the graph (documented in the README section of the task graph):
// - an open task is live (not soft-deleted) and neither completed nor cancelled (failed ones may be
//   retried, so they are open); the topological order and the critical path are over open tasks;
// - a dependency is satisfied when its task is completed, cancelled or deleted: a cancelled
//   prerequisite will never be done, and blocking its dependents forever, invisibly, would be worse
//   than letting them be planned again (whoever cancels it sees them in `dependents`);
// - a ready task is a live backlog or assigned task whose every dependency is satisfied.

const taskColumns = getTableColumns(tasks);

/**
 * True when the task of the outer `tasks` row waits for a dependency still open. Tasks' status
 * literals are inlined (not parameters) so that the planner matches the partial queue indexes.
 */
export function hasOpenDependency(): SQL {
  return sql`EXISTS (SELECT 1 FROM task_dependencies d
    JOIN tasks p ON p.tenant_id = d.tenant_id AND p.id = d.depends_on_id
    WHERE d.tenant_id = ${tasks.tenantId} AND d.task_id = ${tasks.id}
      AND p.deleted_at IS NULL AND p.status NOT IN ('completed', 'cancelled'))`;
}

/** The queue order's sort key of a `tasks` row, as one text a cursor carries (see queueAfter). */
export const queueKey = sql<string>`concat_ws(' ', ${tasks.priority},
  coalesce(to_jsonb(${tasks.deadline}) #>> '{}', '-'), to_jsonb(${tasks.createdAt}) #>> '{}', ${tasks.id})`;

const isoText = z.iso.datetime({ offset: true });
const queueKeySchema = z.tuple([
  z.enum(TASK_PRIORITIES),
  z.union([z.literal('-'), isoText]),
  isoText,
  uuidSchema,
]);

/**
 * Rows after the cursor in queue order: priority (P0 first), deadline (earliest first, none last,
 * as ORDER BY … deadline ASC puts nulls), age, id. The timestamps are the rows' exact values.
 */
export function queueAfter(list: string, cursor: string): SQL {
  const [text] = decodeCursor(list, cursor, z.tuple([z.string().max(200)]));
  const [priority, deadline, createdAt, id] = parseInput(queueKeySchema, text.split(' '), `${list} cursor`);
  const rest = sql`(${tasks.createdAt}, ${tasks.id}) > (${createdAt}::timestamptz, ${id}::uuid)`;
  const sameDeadline =
    deadline === '-'
      ? sql`${tasks.deadline} IS NULL AND ${rest}`
      : sql`(${tasks.deadline} > ${deadline}::timestamptz OR ${tasks.deadline} IS NULL
          OR (${tasks.deadline} = ${deadline}::timestamptz AND ${rest}))`;
  return sql`(${tasks.priority} > ${priority} OR (${tasks.priority} = ${priority} AND ${sameDeadline}))`;
}

/** The queue order (see queueAfter). */
export const queueOrder = [asc(tasks.priority), asc(tasks.deadline), asc(tasks.createdAt), asc(tasks.id)];

/** A task found by a transitive walk, with its distance in edges (the shortest). */
export type TaskAtDepth = Task & { depth: number };

/** An open task of a project's graph, as the topological order and the critical path give it. */
export interface GraphTask {
  id: string;
  title: string;
  status: TaskStatus;
  priority: TaskPriority;
  /** Hours as exact decimal text; null when not estimated (the critical path counts it 1 hour). */
  estimateHours: string | null;
  /** The longest chain of open dependencies below it (0: it waits for no open task). */
  level: number;
  /** Its open dependencies' ids (each comes earlier in the order). */
  dependsOn: string[];
  createdAt: string;
}

/** The longest chain of open tasks of a project, weighted by estimate (1 hour when there is none). */
export interface CriticalPath {
  /** From the first task to do to the last. */
  tasks: GraphTask[];
  /** The chain's weight in hours, exact decimal text (`0.00` when the project has no open task). */
  totalHours: string;
}

const orderKey = z.tuple([z.number().int().min(0), z.enum(TASK_PRIORITIES), isoText, uuidSchema]);

const byOther = z.tuple([uuidSchema]);
const byDepth = z.tuple([z.number().int().min(1), uuidSchema]);

async function requireTask(tx: TenantScope, id: string): Promise<void> {
  const [row] = await tx.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.tenantId, tx.tenantId), eq(tasks.id, id)));
  if (!row) throw new NotFoundError('task', id);
}

/** Hundredths of an hour, exact: numeric(8,2) text → integer. */
function hundredths(hours: string | null): number {
  if (hours === null) return 100;
  const [whole, fraction = ''] = hours.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2));
}

function hoursText(value: number): string {
  return `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;
}

const compareGraphTasks = (a: GraphTask, b: GraphTask) =>
  a.level - b.level ||
  (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0) ||
  (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A project's open tasks and the edges among them, in one statement, ordered topologically: by
 * level (the longest chain of open dependencies below the task), then priority, age and id. Every
 * edge goes from a lower level to a higher one, so the order respects every edge.
 */
async function projectGraph(tx: TenantScope, projectId: string): Promise<GraphTask[]> {
  const rows = await tx.query<{
    id: string;
    title: string;
    status: TaskStatus;
    priority: TaskPriority;
    estimate: string | null;
    created: string;
    depends_on: string | null;
  }>(
    `SELECT t.id, t.title, t.status, t.priority, t.estimate_hours::text AS estimate,
            to_jsonb(t.created_at) #>> '{}' AS created,
            (SELECT string_agg(d.depends_on_id::text, ',')
               FROM task_dependencies d
               JOIN tasks p ON p.tenant_id = d.tenant_id AND p.id = d.depends_on_id
              WHERE d.tenant_id = t.tenant_id AND d.task_id = t.id
                AND p.deleted_at IS NULL AND p.status NOT IN ('completed', 'cancelled')) AS depends_on
       FROM tasks t
      WHERE t.tenant_id = $1 AND t.project_id = $2 AND t.deleted_at IS NULL
        AND t.status NOT IN ('completed', 'cancelled')
      LIMIT $3`,
    [tx.tenantId, projectId, MAX_GRAPH_TASKS + 1],
  );
  if (rows.length === 0) await projectsRepository.get(tx, projectId);
  if (rows.length > MAX_GRAPH_TASKS)
    throw new RangeError(`project ${projectId} has more than ${MAX_GRAPH_TASKS} open tasks`);
  const nodes = new Map<string, GraphTask>();
  for (const row of rows)
    nodes.set(row.id, {
      id: row.id,
      title: row.title,
      status: row.status,
      priority: row.priority,
      estimateHours: row.estimate,
      level: 0,
      dependsOn: row.depends_on ? row.depends_on.split(',').sort() : [],
      createdAt: row.created,
    });
  // Kahn's algorithm: a task's level is known once all its dependencies' are.
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const ready: string[] = [];
  for (const node of nodes.values()) {
    waiting.set(node.id, node.dependsOn.length);
    if (node.dependsOn.length === 0) ready.push(node.id);
    for (const dependency of node.dependsOn) {
      const list = dependents.get(dependency);
      if (list) list.push(node.id);
      else dependents.set(dependency, [node.id]);
    }
  }
  let done = 0;
  while (ready.length > 0) {
    const node = nodes.get(ready.pop()!)!;
    done++;
    for (const dependentId of dependents.get(node.id) ?? []) {
      const dependent = nodes.get(dependentId)!;
      dependent.level = Math.max(dependent.level, node.level + 1);
      const left = waiting.get(dependentId)! - 1;
      waiting.set(dependentId, left);
      if (left === 0) ready.push(dependentId);
    }
  }
  // The database keeps the graph acyclic; a cycle here means that invariant broke.
  if (done !== nodes.size) throw new Error(`the task graph of project ${projectId} has a cycle`);
  return [...nodes.values()].sort(compareGraphTasks);
}

/** A transitive walk from a task along its edges, nearest first, one page. */
async function walk(
  tx: TenantScope,
  id: string,
  input: TransitiveTasksInput,
  direction: 'dependencies' | 'dependents',
): Promise<Page<TaskAtDepth>> {
  const taskId = parseId(id, 'task');
  const query = parseInput(transitiveTasksSchema, input, `task ${direction}`);
  const list = `task ${direction}`;
  const [from, to] =
    direction === 'dependencies' ? ['task_id', 'depends_on_id'] : ['depends_on_id', 'task_id'];
  const fromColumn = sql.identifier(from);
  const toColumn = sql.identifier(to);
  // UNION keeps each (task, depth) once: at most one row per task and level, however many paths
  // lead there, and the walk ends at maxDepth whatever the graph.
  const reached = sql`(WITH RECURSIVE walk(id, depth) AS (
      SELECT d.${toColumn}, 1 FROM task_dependencies d
       WHERE d.tenant_id = ${tx.tenantId}::uuid AND d.${fromColumn} = ${taskId}::uuid
      UNION
      SELECT d.${toColumn}, w.depth + 1 FROM walk w
        JOIN task_dependencies d ON d.tenant_id = ${tx.tenantId}::uuid AND d.${fromColumn} = w.id
       WHERE w.depth < ${query.maxDepth}::integer)
    SELECT id, min(depth) AS depth FROM walk GROUP BY id) AS w`;
  const conditions: SQL[] = [eq(tasks.tenantId, tx.tenantId), sql`${tasks.id} = w.id`];
  if (query.cursor) {
    const [depth, after] = decodeCursor(list, query.cursor, byDepth);
    conditions.push(sql`(w.depth, w.id) > (${depth}::integer, ${after}::uuid)`);
  }
  const rows = await tx.db
    .select({ ...taskColumns, depth: sql<number>`w.depth`.mapWith(Number) })
    .from(sql`${reached}`)
    .innerJoin(tasks, and(...conditions))
    .orderBy(sql`w.depth`, sql`w.id`)
    .limit(query.limit + 1);
  if (rows.length === 0 && !query.cursor) await requireTask(tx, taskId);
  return toPage(rows as TaskAtDepth[], query.limit, list, (row) => [row.depth, row.id]);
}

/**
 * The task graph: DEPENDS_ON edges within a project, kept acyclic by the database (also under
 * concurrency), and the queries over it, all parameterised SQL under row-level security.
 */
export const taskDependenciesRepository = {
  /**
   * Adds the edge: `taskId` waits for `dependsOnId`. NotFoundError for an unknown or deleted task,
   * ValidationError across projects or for a self edge, ConflictError `duplicate` when it exists
   * and `cycle` when `dependsOnId` already (transitively) depends on `taskId`.
   */
  async add(tx: TenantScope, input: TaskDependencyInput): Promise<TaskDependency> {
    const values = parseInput(taskDependencySchema, input, 'task dependency');
    const [row] = await tx.db
      .insert(taskDependencies)
      // The project is the database's (the trigger copies the task's); the column needs a value.
      .values({
        tenantId: tx.tenantId,
        taskId: values.taskId,
        dependsOnId: values.dependsOnId,
        projectId: sql`NULL`,
      })
      .returning();
    return row!;
  },

  /** Removes the edge; NotFoundError when there is none. */
  async remove(tx: TenantScope, input: TaskDependencyInput): Promise<TaskDependency> {
    const values = parseInput(taskDependencySchema, input, 'task dependency');
    const [row] = await tx.db
      .delete(taskDependencies)
      .where(
        and(
          eq(taskDependencies.tenantId, tx.tenantId),
          eq(taskDependencies.taskId, values.taskId),
          eq(taskDependencies.dependsOnId, values.dependsOnId),
        ),
      )
      .returning();
    if (!row) throw new NotFoundError('task dependency', `${values.taskId} -> ${values.dependsOnId}`);
    return row;
  },

  /** A task's direct edges in one direction, by the other end's id. */
  async list(tx: TenantScope, input: ListTaskDependenciesInput): Promise<Page<TaskDependency>> {
    const query = parseInput(listTaskDependenciesSchema, input, 'task dependency list');
    const [own, other] =
      query.direction === 'dependencies'
        ? [taskDependencies.taskId, taskDependencies.dependsOnId]
        : [taskDependencies.dependsOnId, taskDependencies.taskId];
    const conditions: SQL[] = [eq(taskDependencies.tenantId, tx.tenantId), eq(own, query.taskId)];
    if (query.cursor) {
      const [after] = decodeCursor('task dependencies', query.cursor, byOther);
      conditions.push(sql`${other} > ${after}::uuid`);
    }
    const rows = await tx.db
      .select()
      .from(taskDependencies)
      .where(and(...conditions))
      .orderBy(asc(other))
      .limit(query.limit + 1);
    if (rows.length === 0 && !query.cursor) await requireTask(tx, query.taskId);
    return toPage(rows, query.limit, 'task dependencies', (row) => [
      query.direction === 'dependencies' ? row.dependsOnId : row.taskId,
    ]);
  },

  /** Everything the task waits for, transitively, up to `maxDepth` edges away, nearest first. */
  dependencies(
    tx: TenantScope,
    taskId: string,
    input: TransitiveTasksInput = {},
  ): Promise<Page<TaskAtDepth>> {
    return walk(tx, taskId, input, 'dependencies');
  },

  /** Everything that waits for the task, transitively, up to `maxDepth` edges away, nearest first. */
  dependents(tx: TenantScope, taskId: string, input: TransitiveTasksInput = {}): Promise<Page<TaskAtDepth>> {
    return walk(tx, taskId, input, 'dependents');
  },

  /**
   * A project's ready tasks: live, backlog or assigned, every dependency satisfied (completed,
   * cancelled or deleted), in work-queue order (priority, deadline, age).
   */
  async readyTasks(tx: TenantScope, input: ReadyTasksInput): Promise<Page<Task>> {
    const query = parseInput(readyTasksSchema, input, 'ready tasks');
    const conditions: SQL[] = [
      eq(tasks.tenantId, tx.tenantId),
      eq(tasks.projectId, query.projectId),
      isNull(tasks.deletedAt),
      sql`${tasks.status} IN ('backlog', 'assigned')`,
      sql`NOT ${hasOpenDependency()}`,
    ];
    if (query.cursor) conditions.push(queueAfter('ready tasks', query.cursor));
    const rows = await tx.db
      .select({ ...taskColumns, key: queueKey })
      .from(tasks)
      .where(and(...conditions))
      .orderBy(...queueOrder)
      .limit(query.limit + 1);
    if (rows.length === 0 && !query.cursor) await projectsRepository.get(tx, query.projectId);
    const page = toPage(rows, query.limit, 'ready tasks', (row) => [row.key]);
    return { items: page.items.map(({ key: _, ...task }) => task), nextCursor: page.nextCursor };
  },

  /**
   * A project's open tasks in an order that respects every edge among them (a task after all its
   * open dependencies): by level, then priority, age and id; paged.
   */
  async topologicalOrder(tx: TenantScope, input: TopologicalOrderInput): Promise<Page<GraphTask>> {
    const query = parseInput(topologicalOrderSchema, input, 'topological order');
    let ordered = await projectGraph(tx, query.projectId);
    if (query.cursor) {
      const [level, priority, createdAt, id] = decodeCursor('topological order', query.cursor, orderKey);
      const after = { level, priority, createdAt, id } as GraphTask;
      ordered = ordered.filter((task) => compareGraphTasks(task, after) > 0);
    }
    return toPage(ordered.slice(0, query.limit + 1), query.limit, 'topological order', (task) => [
      task.level,
      task.priority,
      task.createdAt,
      task.id,
    ]);
  },

  /**
   * The critical path of a project: the longest chain of open tasks along the edges, each weighing
   * its estimate in hours, or 1 hour when it has none. Of equal chains, the one ending (and then
   * continuing backwards) earliest in the topological order.
   */
  async criticalPath(tx: TenantScope, projectId: string): Promise<CriticalPath> {
    const project = parseId(projectId, 'project');
    const ordered = await projectGraph(tx, project);
    const best = new Map<string, { total: number; previous: string | null }>();
    let end: GraphTask | undefined;
    let endTotal = -1;
    const byId = new Map(ordered.map((task) => [task.id, task]));
    for (const task of ordered) {
      let previous: string | null = null;
      let below = 0;
      for (const dependency of task.dependsOn) {
        const reached = best.get(dependency)!;
        if (
          previous === null ||
          reached.total > below ||
          (reached.total === below && compareGraphTasks(byId.get(dependency)!, byId.get(previous)!) < 0)
        ) {
          previous = dependency;
          below = reached.total;
        }
      }
      const total = below + hundredths(task.estimateHours);
      best.set(task.id, { total, previous });
      if (total > endTotal) {
        end = task;
        endTotal = total;
      }
    }
    const chain: GraphTask[] = [];
    for (let at = end?.id ?? null; at !== null; at = best.get(at)!.previous) chain.push(byId.get(at)!);
    return { tasks: chain.reverse(), totalHours: hoursText(Math.max(endTotal, 0)) };
  },
};
