import { and, asc, desc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateTaskCheckpointInput,
  createTaskCheckpointSchema,
  type ListTaskCheckpointsInput,
  listTaskCheckpointsSchema,
  type RestoreTaskCheckpointInput,
  restoreTaskCheckpointSchema,
} from './task-checkpoints.contract.ts';
import { type TaskCheckpoint, taskCheckpoints } from './task-checkpoints.schema.ts';

const sequenceKey = z.tuple([z.number().int().min(0)]);

// The database's trigger (migration 17) numbers a checkpoint, links it to the task's head and, for a
// restore, copies the restored checkpoint's state: the values given here for those are placeholders.
const NUMBERED_BY_THE_DATABASE = 0;

/**
 * A task's state checkpoints: append-only (no role the application uses may change or remove one),
 * numbered 1, 2, 3… per task without gaps, each following the previous head. A restore appends a
 * checkpoint with an earlier one's state: history is never rewritten.
 */
export const taskCheckpointsRepository = {
  /** Saves a checkpoint of a task's state (NotFoundError when the task does not exist or is deleted). */
  async create(tx: TenantScope, taskId: string, input: CreateTaskCheckpointInput): Promise<TaskCheckpoint> {
    const task = parseId(taskId, 'task');
    const values = parseInput(createTaskCheckpointSchema, input, 'task checkpoint');
    const [row] = await tx.db
      .insert(taskCheckpoints)
      .values({ ...values, tenantId: tx.tenantId, taskId: task, sequence: NUMBERED_BY_THE_DATABASE })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<TaskCheckpoint> {
    const checkpointId = parseId(id, 'task checkpoint');
    const [row] = await tx.db
      .select()
      .from(taskCheckpoints)
      .where(and(eq(taskCheckpoints.tenantId, tx.tenantId), eq(taskCheckpoints.id, checkpointId)));
    if (!row) throw new NotFoundError('task checkpoint', checkpointId);
    return row;
  },

  /** The task's newest checkpoint, its head (NotFoundError when it has none). */
  async latest(tx: TenantScope, taskId: string): Promise<TaskCheckpoint> {
    const task = parseId(taskId, 'task');
    const [row] = await tx.db
      .select()
      .from(taskCheckpoints)
      .where(and(eq(taskCheckpoints.tenantId, tx.tenantId), eq(taskCheckpoints.taskId, task)))
      .orderBy(desc(taskCheckpoints.sequence))
      .limit(1);
    if (!row) throw new NotFoundError('task checkpoint', `latest of task ${task}`);
    return row;
  },

  /** One page of a task's history, in sequence order (oldest first). */
  async list(
    tx: TenantScope,
    taskId: string,
    input: ListTaskCheckpointsInput = {},
  ): Promise<Page<TaskCheckpoint>> {
    const task = parseId(taskId, 'task');
    const query = parseInput(listTaskCheckpointsSchema, input, 'task checkpoint list');
    const after = query.cursor ? decodeCursor('task checkpoints', query.cursor, sequenceKey)[0] : 0;
    const rows = await tx.db
      .select()
      .from(taskCheckpoints)
      .where(
        and(
          eq(taskCheckpoints.tenantId, tx.tenantId),
          eq(taskCheckpoints.taskId, task),
          gt(taskCheckpoints.sequence, after),
        ),
      )
      .orderBy(asc(taskCheckpoints.sequence))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'task checkpoints', (row) => [row.sequence]);
  },

  /**
   * Restores a checkpoint of the task: a new checkpoint with its state, following the current head
   * and naming it in `restoredFromId`. NotFoundError when the checkpoint is not one of this task's.
   */
  async restore(
    tx: TenantScope,
    taskId: string,
    checkpointId: string,
    input: RestoreTaskCheckpointInput = {},
  ): Promise<TaskCheckpoint> {
    const task = parseId(taskId, 'task');
    const restored = parseId(checkpointId, 'task checkpoint');
    const values = parseInput(restoreTaskCheckpointSchema, input, 'task checkpoint restore');
    const [row] = await tx.db
      .insert(taskCheckpoints)
      .values({
        ...values,
        tenantId: tx.tenantId,
        taskId: task,
        restoredFromId: restored,
        sequence: NUMBERED_BY_THE_DATABASE,
        state: {},
      })
      .returning();
    return row!;
  },
};
