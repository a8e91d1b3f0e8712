import { and, desc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { agents } from '../agents/agents.schema.ts';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { tasks } from '../tasks/tasks.schema.ts';
import {
  type AgentHistoryInput,
  agentHistorySchema,
  COST_DIMENSIONS,
  type CostDimension,
  type CostReportInput,
  type CreateTaskExecutionInput,
  costReportSchema,
  createTaskExecutionSchema,
  type FinishTaskExecutionInput,
  finishTaskExecutionSchema,
  type ListTaskExecutionsInput,
  listTaskExecutionsSchema,
  type RecordUsageInput,
  recordUsageSchema,
} from './task-executions.contract.ts';
import {
  executionCostDaily,
  type TaskExecution,
  taskExecutions,
  taskExecutionTotals,
  tenantExecutionTotals,
} from './task-executions.schema.ts';

/** Counters of runs, tokens and cost; the cost is exact decimal text. */
export interface ExecutionTotals {
  executions: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: string;
  durationMs: number;
}

/** A task's totals, kept by the database as its runs are recorded and finish. */
export interface TaskExecutionTotals extends ExecutionTotals {
  taskId: string;
}

/** One line of the cost report: the totals of one value of one dimension (null keys are other dimensions'). */
export interface CostReportRow extends ExecutionTotals {
  dimension: CostDimension;
  projectId: string | null;
  agentId: string | null;
  /** For `model`: null when the run named none (nor its agent). */
  modelProvider: string | null;
  modelName: string | null;
}

/** A run in an agent's history: the execution and what its task is. */
export interface AgentExecution extends TaskExecution {
  task: { title: string; status: string };
}

const ZERO: ExecutionTotals = {
  executions: 0,
  succeeded: 0,
  failed: 0,
  timedOut: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedTokens: 0,
  reasoningTokens: 0,
  costUsd: '0.000000',
  durationMs: 0,
};

// Newest first: (created_at, id) descending; runs recorded in one transaction share created_at.
const executionsKey = z.tuple([cursorTimestamp, uuidSchema]);

const columns = getTableColumns(taskExecutions);
const selectById = compileStatement(columns, ['id'], (db, p) =>
  db.select().from(taskExecutions).where(eq(taskExecutions.id, p.id)),
);
const startById = compileStatement(columns, ['id'], (db, p) =>
  db.update(taskExecutions).set({ status: 'running' }).where(eq(taskExecutions.id, p.id)).returning(),
);

type Usage = z.output<typeof recordUsageSchema>;

/** SET x = x + amount for each usage field given (exact: the cost is added as numeric). */
function usageIncrements(usage: Usage): Partial<Record<keyof typeof columns, SQL>> {
  const set: Partial<Record<keyof typeof columns, SQL>> = {};
  if (usage.inputTokens) set.inputTokens = sql`${taskExecutions.inputTokens} + ${usage.inputTokens}`;
  if (usage.outputTokens) set.outputTokens = sql`${taskExecutions.outputTokens} + ${usage.outputTokens}`;
  if (usage.cachedTokens) set.cachedTokens = sql`${taskExecutions.cachedTokens} + ${usage.cachedTokens}`;
  if (usage.reasoningTokens)
    set.reasoningTokens = sql`${taskExecutions.reasoningTokens} + ${usage.reasoningTokens}`;
  if (usage.costUsd !== undefined) set.costUsd = sql`${taskExecutions.costUsd} + ${usage.costUsd}::numeric`;
  return set;
}

/** The counters of a totals table, read as exact values (the cost as numeric text). */
function counters(table: typeof taskExecutionTotals | typeof tenantExecutionTotals) {
  return {
    executions: table.executions,
    succeeded: table.succeeded,
    failed: table.failed,
    timedOut: table.timedOut,
    inputTokens: table.inputTokens,
    outputTokens: table.outputTokens,
    cachedTokens: table.cachedTokens,
    reasoningTokens: table.reasoningTokens,
    costUsd: table.costUsd,
    durationMs: table.durationMs,
  };
}

const d = executionCostDaily;
const SETS: Record<CostDimension, SQL> = {
  tenant: sql`()`,
  project: sql`(${d.projectId})`,
  agent: sql`(${d.agentId})`,
  model: sql`(${d.modelProvider}, ${d.modelName})`,
};
const sum = (column: AnyPgColumn) => sql<number>`coalesce(sum(${column}), 0)::bigint`.mapWith(Number);

/**
 * Executions: agent runs on tasks with their tokens and exact cost. The state machine, the
 * timestamps and the totals are the database's (migration 15); this validates input and reads.
 */
export const taskExecutionsRepository = {
  /** Records a run, pending or running; the database copies the task's project and finds the session. */
  async create(tx: TenantScope, input: CreateTaskExecutionInput): Promise<TaskExecution> {
    const values = parseInput(createTaskExecutionSchema, input, 'task execution');
    const agentId = values.agentId ?? (tx.actor.type === 'agent' ? tx.actor.id : undefined);
    if (!agentId) {
      throw parseInput(
        z.object({ agentId: uuidSchema }),
        {},
        'task execution (agentId: required unless the actor is an agent)',
      );
    }
    const [row] = await tx.db
      .insert(taskExecutions)
      .values({
        tenantId: tx.tenantId,
        taskId: values.taskId,
        agentId,
        // Set by the database from the task; the column is NOT NULL, so something must be sent.
        projectId: sql`NULL`,
        sessionId: values.sessionId ?? null,
        status: values.status,
        input: values.input ?? {},
        modelProvider: values.modelProvider ?? null,
        modelName: values.modelName ?? null,
        inputTokens: values.inputTokens ?? 0,
        outputTokens: values.outputTokens ?? 0,
        cachedTokens: values.cachedTokens ?? 0,
        reasoningTokens: values.reasoningTokens ?? 0,
        costUsd: values.costUsd ?? '0',
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<TaskExecution> {
    const executionId = parseId(id, 'task execution');
    const [row] = await selectById.run(tx, { id: executionId });
    if (!row) throw new NotFoundError('task execution', executionId);
    return row;
  },

  /** pending → running; the database stamps the start. */
  async start(tx: TenantScope, id: string): Promise<TaskExecution> {
    const executionId = parseId(id, 'task execution');
    const [row] = await startById.run(tx, { id: executionId });
    if (!row) throw new NotFoundError('task execution', executionId);
    return row;
  },

  /** Adds tokens and cost to a running execution (atomically: x = x + amount); the totals follow. */
  async recordUsage(tx: TenantScope, id: string, usage: RecordUsageInput): Promise<TaskExecution> {
    const executionId = parseId(id, 'task execution');
    const values = parseInput(recordUsageSchema, usage, 'execution usage');
    const set = usageIncrements(values);
    // Nothing to add still goes through the database's rules (a finished run refuses even that).
    const [row] = await tx.db
      .update(taskExecutions)
      .set(Object.keys(set).length > 0 ? set : { status: sql`${taskExecutions.status}` })
      .where(eq(taskExecutions.id, executionId))
      .returning();
    if (!row) throw new NotFoundError('task execution', executionId);
    return row;
  },

  /**
   * Ends a run as success, failure or timeout, with its output or error and its last usage, in one
   * statement; the database stamps the finish, computes the duration and adds to the totals.
   */
  async finish(tx: TenantScope, id: string, input: FinishTaskExecutionInput): Promise<TaskExecution> {
    const executionId = parseId(id, 'task execution');
    const { status, output, error, ...usage } = parseInput(
      finishTaskExecutionSchema,
      input,
      'execution finish',
    );
    const [row] = await tx.db
      .update(taskExecutions)
      .set({
        status,
        ...(output === undefined ? {} : { output }),
        ...(error === undefined ? {} : { error }),
        ...usageIncrements(usage),
      })
      .where(eq(taskExecutions.id, executionId))
      .returning();
    if (!row) throw new NotFoundError('task execution', executionId);
    return row;
  },

  /** One page of runs, newest first by (created_at, id), of a task and/or an agent. */
  async list(tx: TenantScope, input: ListTaskExecutionsInput = {}): Promise<Page<TaskExecution>> {
    const query = parseInput(listTaskExecutionsSchema, input, 'task execution list');
    const conditions: SQL[] = [eq(taskExecutions.tenantId, tx.tenantId)];
    if (query.taskId) conditions.push(eq(taskExecutions.taskId, query.taskId));
    if (query.agentId) conditions.push(eq(taskExecutions.agentId, query.agentId));
    if (query.status) {
      const statuses = Array.isArray(query.status) ? query.status : [query.status];
      conditions.push(inArray(taskExecutions.status, statuses));
    }
    if (query.cursor) conditions.push(after(query.cursor));
    const rows = await tx.db
      .select()
      .from(taskExecutions)
      .where(and(...conditions))
      .orderBy(desc(taskExecutions.createdAt), desc(taskExecutions.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'task executions', keyOf);
  },

  /**
   * The tasks an agent executed (the seed's EXECUTED edges): its runs newest first, each with its
   * outcome, tokens and cost and the task's title and status. NotFoundError for an unknown agent.
   */
  async agentHistory(
    tx: TenantScope,
    agentId: string,
    input: AgentHistoryInput = {},
  ): Promise<Page<AgentExecution>> {
    const agent = parseId(agentId, 'agent');
    const query = parseInput(agentHistorySchema, input, 'agent history');
    const conditions: SQL[] = [eq(taskExecutions.tenantId, tx.tenantId), eq(taskExecutions.agentId, agent)];
    if (query.cursor) conditions.push(after(query.cursor));
    const rows = await tx.db
      .select({ execution: taskExecutions, title: tasks.title, taskStatus: tasks.status })
      .from(taskExecutions)
      .innerJoin(tasks, and(eq(tasks.tenantId, taskExecutions.tenantId), eq(tasks.id, taskExecutions.taskId)))
      .where(and(...conditions))
      .orderBy(desc(taskExecutions.createdAt), desc(taskExecutions.id))
      .limit(query.limit + 1);
    if (rows.length === 0 && !query.cursor) {
      const [known] = await tx.db
        .select({ id: agents.id })
        .from(agents)
        .where(and(eq(agents.tenantId, tx.tenantId), eq(agents.id, agent)));
      if (!known) throw new NotFoundError('agent', agent);
    }
    const items = rows.map(({ execution, title, taskStatus }) => ({
      ...execution,
      task: { title, status: taskStatus },
    }));
    return toPage(items, query.limit, 'task executions', keyOf);
  },

  /** A task's totals (zeros before its first run); NotFoundError for an unknown task. */
  async taskTotals(tx: TenantScope, taskId: string): Promise<TaskExecutionTotals> {
    const task = parseId(taskId, 'task');
    const [row] = await tx.db
      .select({ taskId: tasks.id, totals: counters(taskExecutionTotals) })
      .from(tasks)
      .leftJoin(
        taskExecutionTotals,
        and(eq(taskExecutionTotals.tenantId, tasks.tenantId), eq(taskExecutionTotals.taskId, tasks.id)),
      )
      .where(and(eq(tasks.tenantId, tx.tenantId), eq(tasks.id, task)));
    if (!row) throw new NotFoundError('task', task);
    // A left join's columns come back all null when the task has no totals row yet.
    return { taskId: row.taskId, ...(row.totals?.costUsd == null ? ZERO : (row.totals as ExecutionTotals)) };
  },

  /** The tenant's lifetime totals (zeros before its first run). */
  async tenantTotals(tx: TenantScope): Promise<ExecutionTotals> {
    const [row] = await tx.db
      .select(counters(tenantExecutionTotals))
      .from(tenantExecutionTotals)
      .where(eq(tenantExecutionTotals.tenantId, tx.tenantId));
    return row ?? { ...ZERO };
  },

  /**
   * Runs, tokens and cost over UTC days [from, to), per dimension asked (all by default): the
   * tenant's total, per project, per agent, per model. One query (GROUPING SETS over the daily
   * totals); costs are exact decimal text. Ordered by dimension, then cost, highest first.
   */
  async costReport(tx: TenantScope, input: CostReportInput): Promise<CostReportRow[]> {
    const query = parseInput(costReportSchema, input, 'cost report');
    const asked = new Set(query.groupBy ?? COST_DIMENSIONS);
    const dimensions = COST_DIMENSIONS.filter((dim) => asked.has(dim));
    // A column outside every grouping set may be neither selected nor passed to grouping(): the
    // keys of a dimension not asked for are NULL constants, and only asked ones are tested.
    const kept = (dim: CostDimension, column: AnyPgColumn) =>
      asked.has(dim) ? sql`grouping(${column}) = 0` : sql`false`;
    const isProject = kept('project', d.projectId);
    const isAgent = kept('agent', d.agentId);
    const isModel = kept('model', d.modelName);
    const dimension = sql<CostDimension>`CASE WHEN ${isProject} THEN 'project' WHEN ${isAgent} THEN 'agent' WHEN ${isModel} THEN 'model' ELSE 'tenant' END`;
    const rank = sql`CASE WHEN ${isProject} THEN 1 WHEN ${isAgent} THEN 2 WHEN ${isModel} THEN 3 ELSE 0 END`;
    const rows = await tx.db
      .select({
        dimension,
        projectId: asked.has('project') ? d.projectId : sql<string | null>`NULL::uuid`,
        agentId: asked.has('agent') ? d.agentId : sql<string | null>`NULL::uuid`,
        modelProvider: asked.has('model')
          ? sql<string | null>`nullif(${d.modelProvider}, '')`
          : sql<null>`NULL`,
        modelName: asked.has('model') ? sql<string | null>`nullif(${d.modelName}, '')` : sql<null>`NULL`,
        executions: sum(d.executions),
        succeeded: sum(d.succeeded),
        failed: sum(d.failed),
        timedOut: sum(d.timedOut),
        inputTokens: sum(d.inputTokens),
        outputTokens: sum(d.outputTokens),
        cachedTokens: sum(d.cachedTokens),
        reasoningTokens: sum(d.reasoningTokens),
        costUsd: sql<string>`coalesce(sum(${d.costUsd}), 0)::numeric(20, 6)::text`,
        durationMs: sum(d.durationMs),
      })
      .from(d)
      .where(
        and(
          eq(d.tenantId, tx.tenantId),
          sql`${d.day} >= ${query.from}::date`,
          sql`${d.day} < ${query.to}::date`,
        ),
      )
      .groupBy(
        sql`GROUPING SETS (${sql.join(
          dimensions.map((dim) => SETS[dim]),
          sql`, `,
        )})`,
      )
      .orderBy(rank, sql`sum(${d.costUsd}) DESC`, sql`2`, sql`3`, sql`4`, sql`5`);
    return rows as CostReportRow[];
  },
};

function keyOf(row: TaskExecution): [string, string] {
  return [row.createdAt.toISOString(), row.id];
}

/** Rows after the cursor's (created_at, id), newest first. */
function after(cursor: string): SQL {
  const [at, id] = decodeCursor('task executions', cursor, executionsKey);
  const exact = exactTimestamp(taskExecutions.createdAt, taskExecutions.id, at, id);
  return sql`(${taskExecutions.createdAt}, ${taskExecutions.id}) < (${exact}, ${id})`;
}
