import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  check,
  foreignKey,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { scopedIdColumn, tenantIdColumn, tenantKeys } from '../shared/columns.ts';
import { tasks } from './tasks.schema.ts';

/**
 * A task's state checkpoints: append-only and immutable. The database numbers each one (1, 2, 3…
 * per task, gapless) and links it to the previous head (`parentId`); a restore is a new checkpoint
 * with the state of the one it names (`restoredFromId`), of the same task.
 */
export const taskCheckpoints = pgTable(
  'task_checkpoints',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    taskId: uuid('task_id').notNull(),
    sequence: integer('sequence').notNull(),
    label: text('label'),
    state: jsonb('state').$type<Record<string, unknown>>().notNull(),
    parentId: uuid('parent_id'),
    restoredFromId: uuid('restored_from_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    ...tenantKeys(table, { task: [table.taskId, tasks] }),
    unique('task_checkpoints_sequence_key').on(table.tenantId, table.taskId, table.sequence),
    unique('task_checkpoints_task_key').on(table.tenantId, table.taskId, table.id),
    foreignKey({
      name: 'task_checkpoints_parent_fk',
      columns: [table.tenantId, table.taskId, table.parentId as AnyPgColumn],
      foreignColumns: [table.tenantId, table.taskId, table.id],
    }),
    foreignKey({
      name: 'task_checkpoints_restored_from_fk',
      columns: [table.tenantId, table.taskId, table.restoredFromId as AnyPgColumn],
      foreignColumns: [table.tenantId, table.taskId, table.id],
    }),
    check('task_checkpoints_sequence_check', sql`${table.sequence} > 0`),
    check('task_checkpoints_label_check', sql`char_length(${table.label}) BETWEEN 1 AND 200`),
    check('task_checkpoints_state_check', sql`jsonb_typeof(${table.state}) = 'object'`),
    check('task_checkpoints_chain', sql`(${table.sequence} = 1) = (${table.parentId} IS NULL)`),
  ],
);

export type TaskCheckpoint = typeof taskCheckpoints.$inferSelect;
