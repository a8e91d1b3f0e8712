// Every table of the Drizzle schema, in one place for typed queries and the schema-drift test.
export { agentCredentials, agentCredentialUses } from './agents/agent-credentials.schema.ts';
export { agentStates } from './agents/agent-states.schema.ts';
export { agents } from './agents/agents.schema.ts';
export { approvals } from './approvals/approvals.schema.ts';
export { artifacts } from './approvals/artifacts.schema.ts';
export { auditLogs } from './audit/audit-logs.schema.ts';
export { eventMentions, events } from './events/events.schema.ts';
export {
  executionCostDaily,
  taskExecutions,
  taskExecutionTotals,
  tenantExecutionTotals,
} from './executions/task-executions.schema.ts';
export { idempotencyKeys } from './idempotency/idempotency-keys.schema.ts';
export { evidence, evidenceLinks, executionEvidence } from './knowledge/evidence.schema.ts';
export { lessons } from './knowledge/lessons.schema.ts';
export { patterns } from './knowledge/patterns.schema.ts';
export { selfReviews } from './knowledge/self-reviews.schema.ts';
export { kpis } from './kpis/kpis.schema.ts';
export { projectFiles } from './projects/project-files.schema.ts';
export { projects } from './projects/projects.schema.ts';
export { activityFeed } from './tasks/activity-feed.schema.ts';
export { taskAttachments } from './tasks/task-attachments.schema.ts';
export { taskCheckpoints } from './tasks/task-checkpoints.schema.ts';
export { taskComments } from './tasks/task-comments.schema.ts';
export { taskDependencies } from './tasks/task-dependencies.schema.ts';
export { tasks } from './tasks/tasks.schema.ts';
export { memberships } from './tenancy/memberships.schema.ts';
export { tenants } from './tenancy/tenants.schema.ts';
export { users } from './tenancy/users.schema.ts';
export { wikiEntries, wikiPages } from './wiki/wiki-entries.schema.ts';
export { workSessions } from './work-sessions/work-sessions.schema.ts';
