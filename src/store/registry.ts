import {
  agentCredentialAdminRepository,
  agentCredentialsRepository,
} from '../agents/agent-credentials.repository.ts';
import { agentStatesRepository } from '../agents/agent-states.repository.ts';
import { agentAdminRepository, agentsRepository } from '../agents/agents.repository.ts';
import { approvalsRepository } from '../approvals/approvals.repository.ts';
import { artifactsRepository } from '../approvals/artifacts.repository.ts';
import { auditLogsRepository } from '../audit/audit-logs.repository.ts';
import { eventAdminRepository, eventsRepository } from '../events/events.repository.ts';
import { taskExecutionsRepository } from '../executions/task-executions.repository.ts';
import {
  idempotencyKeyAdminRepository,
  idempotencyKeysRepository,
} from '../idempotency/idempotency-keys.repository.ts';
import { evidenceRepository } from '../knowledge/evidence.repository.ts';
import { lessonsRepository } from '../knowledge/lessons.repository.ts';
import { patternsRepository } from '../knowledge/patterns.repository.ts';
import { selfReviewsRepository } from '../knowledge/self-reviews.repository.ts';
import { kpisRepository } from '../kpis/kpis.repository.ts';
import { projectFilesRepository } from '../projects/project-files.repository.ts';
import { projectAdminRepository, projectsRepository } from '../projects/projects.repository.ts';
import { retentionRepository } from '../retention/retention.repository.ts';
import { activityFeedRepository } from '../tasks/activity-feed.repository.ts';
import { taskAttachmentsRepository } from '../tasks/task-attachments.repository.ts';
import { taskCheckpointsRepository } from '../tasks/task-checkpoints.repository.ts';
import { taskCommentsRepository } from '../tasks/task-comments.repository.ts';
import { taskDependenciesRepository } from '../tasks/task-dependencies.repository.ts';
import { taskQueueRepository } from '../tasks/task-queue.repository.ts';
import { taskAdminRepository, tasksRepository } from '../tasks/tasks.repository.ts';
import { membershipAdminRepository, membershipsRepository } from '../tenancy/memberships.repository.ts';
import { tenantAdminRepository, tenantsRepository } from '../tenancy/tenants.repository.ts';
import { userAdminRepository, usersRepository } from '../tenancy/users.repository.ts';
import { wikiRepository } from '../wiki/wiki-entries.repository.ts';
import { workSessionsRepository } from '../work-sessions/work-sessions.repository.ts';
import type { Repository } from './bind-repository.ts';
import type { ServiceScope, TenantScope } from './scope.ts';

/** A table's repositories: what tenant work (`withTenant`) and service work (`asService`) may do. */
export interface RegistryEntry {
  readonly tenant?: Repository<TenantScope>;
  readonly service?: Repository<ServiceScope>;
}

/**
 * Every repository, one line per table: `tx.<name>` in `withTenant` is the entry's `tenant`
 * repository bound to `tx`, and `svc.<name>` in `asService` its `service` repository. A new table
 * adds its line here and nothing else central.
 */
export const registry = {
  tenants: { tenant: tenantsRepository, service: tenantAdminRepository },
  users: { tenant: usersRepository, service: userAdminRepository },
  memberships: { tenant: membershipsRepository, service: membershipAdminRepository },
  projects: { tenant: projectsRepository, service: projectAdminRepository },
  projectFiles: { tenant: projectFilesRepository },
  agentStates: { tenant: agentStatesRepository },
  auditLogs: { tenant: auditLogsRepository },
  agents: { tenant: agentsRepository, service: agentAdminRepository },
  agentCredentials: { tenant: agentCredentialsRepository, service: agentCredentialAdminRepository },
  kpis: { tenant: kpisRepository },
  retention: { service: retentionRepository },
  events: { tenant: eventsRepository, service: eventAdminRepository },
  workSessions: { tenant: workSessionsRepository },
  taskExecutions: { tenant: taskExecutionsRepository },
  wiki: { tenant: wikiRepository },
  evidence: { tenant: evidenceRepository },
  idempotencyKeys: { tenant: idempotencyKeysRepository, service: idempotencyKeyAdminRepository },
  tasks: { tenant: tasksRepository, service: taskAdminRepository },
  activityFeed: { tenant: activityFeedRepository },
  taskDependencies: { tenant: taskDependenciesRepository },
  taskQueue: { tenant: taskQueueRepository },
  artifacts: { tenant: artifactsRepository },
  approvals: { tenant: approvalsRepository },
  taskComments: { tenant: taskCommentsRepository },
  taskAttachments: { tenant: taskAttachmentsRepository },
  taskCheckpoints: { tenant: taskCheckpointsRepository },
  lessons: { tenant: lessonsRepository },
  selfReviews: { tenant: selfReviewsRepository },
  patterns: { tenant: patternsRepository },
} as const satisfies Record<string, RegistryEntry>;

export type Registry = typeof registry;
