import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgTable, unique, uuid } from 'drizzle-orm/pg-core';
import { projects } from '../projects/projects.schema.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';

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
    ...tenantKeys(table, { project: [table.projectId, projects] }),
    unique('agent_states_project_key').on(table.tenantId, table.projectId),
    check('agent_states_state_check', sql`jsonb_typeof(${table.state}) = 'object'`),
    check('agent_states_version_check', sql`${table.version} >= 1`),
  ],
);

export type AgentState = typeof agentStates.$inferSelect;
