import { and, desc, eq, getTableColumns, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type AssignTaskInput,
  assignTaskSchema,
  type CreateTaskInput,
  createTaskSchema,
  type ImportGithubIssueInput,
  importGithubIssueSchema,
  type ListTasksInput,
  listTasksSchema,
  type PurgeDeletedInput,
  purgeDeletedSchema,
  type TransitionTaskInput,
  transitionTaskSchema,
  type UpdateTaskInput,
  updateTaskSchema,
} from './tasks.contract.ts';
import { type Task, tasks } from './tasks.schema.ts';

// Newest first: (created_at, id) descending. Tasks created in one transaction share created_at.
const tasksKey = z.tuple([cursorTimestamp, uuidSchema]);

const live = isNull(tasks.deletedAt);
const columns = getTableColumns(tasks);
const selectById = compileStatement(columns, ['id'], (db, p) =>
  db
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, p.id), live)),
);
const softDelete = compileStatement({ id: tasks.id }, ['id'], (db, p) =>
  db
    .update(tasks)
    .set({ deletedAt: sql`now()` })
    .where(and(eq(tasks.id, p.id), live))
    .returning({ id: tasks.id }),
);

/** The result of `tasks.importGithubIssue`: the task, and whether this import created it. */
export interface ImportedTask {
  task: Task;
  created: boolean;
}

/** What `svc.tasks.purgeDeleted` removed, per tenant and table. */
export interface PurgeReport {
  olderThanDays: number;
  results: Array<{ tenantId: string; table: 'tasks' | 'projects'; purged: number }>;
  /** Totals over every tenant. */
  tasks: number;
  projects: number;
}

async function getTask(tx: TenantScope, taskId: string): Promise<Task> {
  const [row] = await selectById.run(tx, { id: taskId });
  if (!row) throw new NotFoundError('task', taskId);
  return row;
}

/** Sets `values` on the live task `taskId`, or NotFoundError. */
async function updateLive(
  tx: TenantScope,
  taskId: string,
  values: PgUpdateSetSource<typeof tasks>,
  condition?: SQL,
): Promise<Task | undefined> {
  const [row] = await tx.db
    .update(tasks)
    .set(values)
    .where(and(eq(tasks.id, taskId), live, condition))
    .returning();
  return row;
}

/**
 * Tasks of the current tenant. The state machine, the timestamps and counters its transitions set,
 * and who may be assigned are the database's (migration 13: guard_task), for every writer; status
 * changes write the timeline events and the activity feed in the same transaction. A deleted task
 * is gone to readers and frozen.
 */
export const tasksRepository = {
  /** Creates a task as a draft, in the backlog or assigned (to an agent or a member, not both). */
  async create(tx: TenantScope, input: CreateTaskInput): Promise<Task> {
    const values = parseInput(createTaskSchema, input, 'task');
    const [row] = await tx.db
      .insert(tasks)
      .values({ ...values, tenantId: tx.tenantId })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Task> {
    return getTask(tx, parseId(id, 'task'));
  },

  /** One page of live tasks, newest first by (created_at, id), filtered. */
  async list(tx: TenantScope, input: ListTasksInput = {}): Promise<Page<Task>> {
    const query = parseInput(listTasksSchema, input, 'task list');
    const conditions: SQL[] = [eq(tasks.tenantId, tx.tenantId), live];
    if (query.projectId) conditions.push(eq(tasks.projectId, query.projectId));
    if (query.status) conditions.push(inArray(tasks.status, query.status));
    if (query.priority) conditions.push(eq(tasks.priority, query.priority));
    if (query.assigneeAgentId) conditions.push(eq(tasks.assigneeAgentId, query.assigneeAgentId));
    if (query.assigneeUserId) conditions.push(eq(tasks.assigneeUserId, query.assigneeUserId));
    if (query.cursor) {
      const [at, id] = decodeCursor('tasks', query.cursor, tasksKey);
      const exact = exactTimestamp(tasks.createdAt, tasks.id, at, id);
      conditions.push(sql`(${tasks.createdAt}, ${tasks.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(tasks)
      .where(and(...conditions))
      .orderBy(desc(tasks.createdAt), desc(tasks.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'tasks', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /** Changes descriptive fields; a field the contract does not take is a ValidationError, and nothing is written. */
  async update(tx: TenantScope, id: string, patch: UpdateTaskInput): Promise<Task> {
    const taskId = parseId(id, 'task');
    const values = parseInput(updateTaskSchema, patch, 'task update');
    if (Object.keys(values).length === 0) return getTask(tx, taskId);
    const row = await updateLive(tx, taskId, values);
    if (!row) throw new NotFoundError('task', taskId);
    return row;
  },

  /**
   * Assigns the task to an agent or a member (the other assignee is cleared); a task waiting in the
   * backlog becomes `assigned`. The database refuses an agent that is terminated, inactive, deleted,
   * of another project, or on probation for P0 work. `null` unassigns.
   */
  async assign(tx: TenantScope, id: string, to: AssignTaskInput): Promise<Task> {
    const taskId = parseId(id, 'task');
    const target = parseInput(assignTaskSchema, to, 'task assignee');
    if (target === null) return tasksRepository.unassign(tx, taskId);
    const row = await updateLive(tx, taskId, {
      assigneeAgentId: 'agentId' in target ? target.agentId : null,
      assigneeUserId: 'userId' in target ? target.userId : null,
      status: sql`CASE WHEN ${tasks.status} = 'backlog' THEN 'assigned' ELSE ${tasks.status} END`,
    });
    if (!row) throw new NotFoundError('task', taskId);
    return row;
  },

  /** Clears the assignee; a task assigned or in progress goes back to the backlog. */
  async unassign(tx: TenantScope, id: string): Promise<Task> {
    const taskId = parseId(id, 'task');
    const row = await updateLive(tx, taskId, {
      assigneeAgentId: null,
      assigneeUserId: null,
      status: sql`CASE WHEN ${tasks.status} IN ('assigned', 'in_progress') THEN 'backlog' ELSE ${tasks.status} END`,
    });
    if (!row) throw new NotFoundError('task', taskId);
    return row;
  },

  /**
   * Moves the task to `status` (ConflictError `invalid_transition` naming both states when
   * TASK_TRANSITIONS does not allow it; `retries_exhausted` when a failed task has used its
   * retries). The same status again is a ConflictError too, except in_progress (a new phase) and
   * blocked (a new reason).
   */
  async transition(tx: TenantScope, id: string, input: TransitionTaskInput): Promise<Task> {
    const taskId = parseId(id, 'task');
    const move = parseInput(transitionTaskSchema, input, 'task transition');
    const values: PgUpdateSetSource<typeof tasks> = {
      status: move.status,
      blockedReason: move.reason ?? null,
    };
    if (move.phase !== undefined) values.phase = move.phase;
    if (move.error !== undefined) values.error = move.error;
    if (move.result !== undefined) values.result = move.result;
    const again = move.status === 'in_progress' || move.status === 'blocked';
    const row = await updateLive(
      tx,
      taskId,
      values,
      again ? undefined : sql`${tasks.status} <> ${move.status}`,
    );
    if (row) return row;
    const current = await getTask(tx, taskId);
    throw new ConflictError(
      'invalid_transition',
      `task ${taskId} cannot go from ${current.status} to ${move.status}: it is ${current.status} already`,
      { entity: 'task', field: 'status' },
    );
  },

  /**
   * Creates a task from a GitHub issue, or updates the one the same issue (project, issue id) made:
   * one INSERT … ON CONFLICT on the live-issue unique index, so concurrent imports make one task.
   */
  async importGithubIssue(tx: TenantScope, input: ImportGithubIssueInput): Promise<ImportedTask> {
    const issue = parseInput(importGithubIssueSchema, input, 'GitHub issue');
    const github = { labels: issue.labels ?? [], ...(issue.url ? { url: issue.url } : {}) };
    const [row] = await tx.db
      .insert(tasks)
      .values({
        tenantId: tx.tenantId,
        projectId: issue.projectId,
        title: issue.title,
        description: issue.body ?? null,
        type: issue.type ?? (issue.labels?.includes('bug') ? 'bug' : 'feature'),
        priority: issue.priority ?? 'P2',
        githubRepository: issue.repository,
        githubIssueId: issue.issueId,
        githubIssueNumber: issue.issueNumber,
        metadata: { github },
      })
      .onConflictDoUpdate({
        target: [tasks.tenantId, tasks.projectId, tasks.githubIssueId],
        targetWhere: sql`github_issue_id IS NOT NULL AND deleted_at IS NULL`,
        set: {
          title: sql`excluded.title`,
          description: sql`excluded.description`,
          githubRepository: sql`excluded.github_repository`,
          githubIssueNumber: sql`excluded.github_issue_number`,
          metadata: sql`${tasks.metadata} || jsonb_build_object('github', excluded.metadata -> 'github')`,
        },
      })
      .returning({ ...columns, created: sql<boolean>`(xmax = 0)` });
    const { created, ...task } = row!;
    return { task, created };
  },

  /** Soft delete: the task is gone to readers and frozen; the service role purges it later. */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const taskId = parseId(id, 'task');
    const [row] = await softDelete.run(tx, { id: taskId });
    if (!row) throw new NotFoundError('task', taskId);
  },
};

/** Cross-tenant maintenance of tasks (service role). */
export const taskAdminRepository = {
  /**
   * Removes for good the tasks soft-deleted more than `olderThanDays` days ago, and the projects
   * soft-deleted that long ago with everything of theirs. The database writes an audit row per
   * removed row and one per tenant and table naming the service actor, the count and the cutoff.
   */
  async purgeDeleted(tx: ServiceScope, input: PurgeDeletedInput): Promise<PurgeReport> {
    const { olderThanDays } = parseInput(purgeDeletedSchema, input, 'purge');
    const rows = await tx.query<{
      purged_tenant: string;
      purged_table: 'tasks' | 'projects';
      purged_rows: string;
    }>('SELECT purged_tenant, purged_table, purged_rows FROM agentflow.purge_deleted_work($1)', [
      olderThanDays,
    ]);
    const results = rows.map((r) => ({
      tenantId: r.purged_tenant,
      table: r.purged_table,
      purged: Number(r.purged_rows),
    }));
    const total = (table: string) =>
      results.filter((r) => r.table === table).reduce((sum, r) => sum + r.purged, 0);
    return { olderThanDays, results, tasks: total('tasks'), projects: total('projects') };
  },
};
