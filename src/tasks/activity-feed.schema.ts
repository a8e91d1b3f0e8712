import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { projects } from '../projects/projects.schema.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys } from '../shared/columns.ts';
import { tenants } from '../tenancy/tenants.schema.ts';
import { tasks } from './tasks.schema.ts';

/** Who did what in a project, in words for people; written only by the database's triggers. */
export const activityFeed = pgTable(
  'activity_feed',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    projectId: uuid('project_id').notNull(),
    taskId: uuid('task_id'),
    kind: text('kind').notNull(),
    summary: text('summary').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    actorType: text('actor_type', { enum: ['user', 'agent', 'service'] }),
    actorId: text('actor_id'),
    isPublic: boolean('is_public').notNull().default(true),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    ...tenantKeys(table, { project: [table.projectId, projects], task: [table.taskId, tasks] }),
    index('activity_feed_project_idx').on(table.tenantId, table.projectId, table.occurredAt, table.id),
    index('activity_feed_task_idx')
      .on(table.tenantId, table.taskId, table.occurredAt, table.id)
      .where(sql`task_id IS NOT NULL`),
    check('activity_feed_kind_check', sql`${table.kind} ~ '^[a-z][a-z_]{0,62}$'`),
    check('activity_feed_summary_check', sql`char_length(${table.summary}) BETWEEN 1 AND 1000`),
    check('activity_feed_details_check', sql`jsonb_typeof(${table.details}) = 'object'`),
    check('activity_feed_actor_type_check', sql`${table.actorType} IN ('user', 'agent', 'service')`),
  ],
);

export type ActivityEntry = typeof activityFeed.$inferSelect;
