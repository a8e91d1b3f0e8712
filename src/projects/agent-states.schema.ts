import { sql } from 'drizzle-orm';
import { check, foreignKey, integer, jsonb, pgTable, primaryKey, unique, uuid } from 'drizzle-orm/pg-core';
import { scopedIdColumn, tenantIdColumn, timestampColumns } from '../shared/columns.ts';
import { projects } from './projects.schema.ts';

/** The one durable state document per project, written with optimistic concurrency (`version`). */
export const agentStates = pgTable(
  'agent_states',
  {
    tenantId: tenantIdColumn(),
    id: scopedIdColumn(),
    projectId: uuid('project_id').notNull(),
    state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    ...timestampColumns(),
  },
  (table) => [
    primaryKey({ columns: [table.tenantId, table.id] }),
    unique('agent_states_project_key').on(table.tenantId, table.projectId),
    foreignKey({
      name: 'agent_states_project_fk',
      columns: [table.tenantId, table.projectId],
      foreignColumns: [projects.tenantId, projects.id],
    }).onDelete('cascade'),
    check('agent_states_state_check', sql`jsonb_typeof(${table.state}) = 'object'`),
    check('agent_states_version_check', sql`${table.version} >= 1`),
  ],
);

export type AgentState = typeof agentStates.$inferSelect;
