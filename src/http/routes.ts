import { agentCredentialRoutes } from '../agents/agent-credentials.routes.ts';
import { agentStateRoutes } from '../agents/agent-states.routes.ts';
import { agentRoutes } from '../agents/agents.routes.ts';
import { approvalRoutes } from '../approvals/approvals.routes.ts';
import { artifactRoutes } from '../approvals/artifacts.routes.ts';
import { auditLogRoutes } from '../audit/audit-logs.routes.ts';
import { eventRoutes } from '../events/events.routes.ts';
import { eventStreamRoutes } from '../events/events-stream.routes.ts';
import { taskExecutionRoutes } from '../executions/task-executions.routes.ts';
import { evidenceRoutes } from '../knowledge/evidence.routes.ts';
import { lessonRoutes } from '../knowledge/lessons.routes.ts';
import { patternRoutes } from '../knowledge/patterns.routes.ts';
import { selfReviewRoutes } from '../knowledge/self-reviews.routes.ts';
import { kpiRoutes } from '../kpis/kpis.routes.ts';
import { projectFileRoutes } from '../projects/project-files.routes.ts';
import { projectRoutes } from '../projects/projects.routes.ts';
import { activityFeedRoutes } from '../tasks/activity-feed.routes.ts';
import { taskAttachmentRoutes } from '../tasks/task-attachments.routes.ts';
import { taskCheckpointRoutes } from '../tasks/task-checkpoints.routes.ts';
import { taskCommentRoutes } from '../tasks/task-comments.routes.ts';
import { taskDependencyRoutes } from '../tasks/task-dependencies.routes.ts';
import { taskQueueRoutes } from '../tasks/task-queue.routes.ts';
import { taskRoutes } from '../tasks/tasks.routes.ts';
import { loginSessionRoutes } from '../tenancy/login-sessions.routes.ts';
import { membershipRoutes } from '../tenancy/memberships.routes.ts';
import { tenantRoutes } from '../tenancy/tenants.routes.ts';
import { userRoutes } from '../tenancy/users.routes.ts';
import { wikiRoutes } from '../wiki/wiki-entries.routes.ts';
import { workSessionRoutes } from '../work-sessions/work-sessions.routes.ts';
import type { ApiRoute } from './route.ts';

/**
 * Every route of the API, one line per domain: a domain's `*.routes.ts` declares its routes next to
 * its contracts, and adds its line here. The coverage test fails when a tenant repository function
 * has no route and is not listed in INTERNAL_OPERATIONS.
 */
export const apiRoutes: readonly ApiRoute[] = [
  ...loginSessionRoutes,
  ...tenantRoutes,
  ...userRoutes,
  ...membershipRoutes,
  ...projectRoutes,
  ...projectFileRoutes,
  ...agentStateRoutes,
  ...auditLogRoutes,
  ...agentRoutes,
  ...agentCredentialRoutes,
  ...kpiRoutes,
  ...eventRoutes,
  ...eventStreamRoutes,
  ...workSessionRoutes,
  ...taskRoutes,
  ...activityFeedRoutes,
  ...taskDependencyRoutes,
  ...taskQueueRoutes,
  ...taskExecutionRoutes,
  ...artifactRoutes,
  ...approvalRoutes,
  ...taskCommentRoutes,
  ...taskAttachmentRoutes,
  ...taskCheckpointRoutes,
  ...lessonRoutes,
  ...selfReviewRoutes,
  ...patternRoutes,
  ...wikiRoutes,
  ...evidenceRoutes,
];

/** Tenant repository functions with no route, and why. */
export const INTERNAL_OPERATIONS: Readonly<Record<string, string>> = {
  'idempotencyKeys.claim': 'the server claims the Idempotency-Key of every POST itself',
  'idempotencyKeys.complete': 'the server stores the response of every POST with an Idempotency-Key itself',
};
