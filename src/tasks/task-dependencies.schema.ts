import { sql } from 'drizzle-orm';
import { check, foreignKey, index, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenantIdColumn } from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { tasks } from './tasks.schema.ts';

/**
 * The task graph's DEPENDS_ON edges (migration 14): `taskId` cannot start before `dependsOnId` is
 * done. Both tasks are of one project (`projectId`, set by the database from the task), and the
 * database keeps the graph acyclic (trigger agentflow.check_task_edge).
 */
export const taskDependencies = pgTable(
  'task_dependencies',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    taskId: uuid('task_id').notNull(),
    dependsOnId: uuid('depends_on_id').notNull(),
    projectId: uuid('project_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({
      name: 'task_dependencies_pkey',
      columns: [table.tenantId, table.taskId, table.dependsOnId],
    }),
    foreignKey({
      name: 'task_dependencies_task_fk',
      columns: [table.tenantId, table.projectId, table.taskId],
      foreignColumns: [tasks.tenantId, tasks.projectId, tasks.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'task_dependencies_depends_on_fk',
      columns: [table.tenantId, table.projectId, table.dependsOnId],
      foreignColumns: [tasks.tenantId, tasks.projectId, tasks.id],
    }).onDelete('cascade'),
    index('task_dependencies_dependents_idx').on(table.tenantId, table.dependsOnId, table.taskId),
    check('task_dependencies_no_self', sql`${table.taskId} <> ${table.dependsOnId}`),
  ],
);

export type TaskDependency = typeof taskDependencies.$inferSelect;
