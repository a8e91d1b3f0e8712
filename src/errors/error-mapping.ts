import type { AgentflowError } from './agentflow-error.ts';
import type { DatabaseError, SqlStateKind } from './database-error.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './domain-errors.ts';

/**
 * The one table from database failures to domain errors. A failure is looked up, first match wins:
 * 1. by the SQLSTATE (and message) our own SQL functions and triggers raise (`RAISED_ERRORS`);
 * 2. by constraint name, where a constraint means more than its family (`CONSTRAINT_ERRORS`);
 * 3. by SQLSTATE family (`KIND_ERRORS`).
 * Anything else stays a DatabaseError. Repositories check none of this themselves.
 */
type Translate = (error: DatabaseError) => AgentflowError;

/** The library's name for the rows of each table: the `entity` of errors about them. */
const ENTITY_BY_TABLE: Readonly<Record<string, string>> = {
  tenants: 'tenant',
  users: 'user',
  memberships: 'membership',
  projects: 'project',
  project_files: 'project file',
  agent_states: 'agent state',
  audit_logs: 'audit log',
  agents: 'agent',
  work_sessions: 'work session',
  events: 'event',
  agent_credentials: 'agent credential',
  agent_credential_uses: 'agent credential use',
  kpis: 'kpi',
  event_mentions: 'event mention',
  idempotency_keys: 'idempotency key',
  tasks: 'task',
  activity_feed: 'activity entry',
  task_dependencies: 'task dependency',
  task_executions: 'task execution',
  task_execution_totals: 'task execution totals',
  tenant_execution_totals: 'tenant execution totals',
  execution_cost_daily: 'execution cost',
  artifacts: 'artifact',
  approvals: 'approval',
  task_comments: 'task comment',
  task_attachments: 'task attachment',
  task_checkpoints: 'task checkpoint',
  lessons: 'lesson',
  self_reviews: 'self review',
  patterns: 'pattern',
  wiki_entries: 'wiki entry',
  wiki_pages: 'wiki entry',
  evidence: 'evidence',
  evidence_links: 'evidence link',
  execution_evidence: 'evidence citation',
};

function entityOf(error: DatabaseError): string | undefined {
  return error.table === undefined ? undefined : (ENTITY_BY_TABLE[error.table] ?? error.table);
}

const named = (error: DatabaseError) => (error.constraint ? ` (${error.constraint})` : '');

function duplicate(entity: string, field: string): Translate {
  return (error) =>
    new ConflictError('duplicate', `${entity} with this ${field} already exists${named(error)}`, {
      cause: error,
      entity,
      field,
    });
}

function checkpointLink(error: DatabaseError): AgentflowError {
  const key = /^Key \(tenant_id, task_id, \w+\)=\([^,]+, [^,]+, ([^)]+)\)/.exec(error.detail ?? '')?.[1];
  return new NotFoundError('task checkpoint', key, { cause: error });
}

export const CONSTRAINT_ERRORS: Readonly<Record<string, Translate>> = {
  tenants_slug_live_key: duplicate('tenant', 'slug'),
  users_email_live_key: duplicate('user', 'email'),
  users_github_id_live_key: duplicate('user', 'githubId'),
  memberships_user_key: duplicate('membership', 'userId'),
  projects_slug_live_key: duplicate('project', 'slug'),
  project_files_path_key: duplicate('project file', 'path'),
  agent_states_project_key: duplicate('agent state', 'projectId'),
  agents_code_key: duplicate('agent', 'code'),
  agents_org_name_live_key: duplicate('agent', 'name'),
  agents_project_name_live_key: duplicate('agent', 'name'),
  agent_credentials_prefix_key: duplicate('agent credential', 'keyPrefix'),
  kpis_agent_recorded_key: duplicate('kpi', 'recordedAt'),
  task_dependencies_pkey: duplicate('task dependency', 'dependsOnId'),
  approvals_pending_key: (error) =>
    new ConflictError(
      'approval_pending',
      `the task already awaits a decision on an approval${named(error)}`,
      {
        cause: error,
        entity: 'approval',
        field: 'taskId',
      },
    ),
  task_comments_github_comment_live_key: duplicate('task comment', 'githubCommentId'),
  // Two checkpoints numbered alike: only when the task's lock could not serialise them (a snapshot
  // older than the lock, under REPEATABLE READ). Run again, it passes.
  task_checkpoints_sequence_key: (error) =>
    new ConflictError('serialization_failure', `concurrent checkpoint, retry${named(error)}`, {
      cause: error,
      entity: 'task checkpoint',
    }),
  // Links of a checkpoint to another of its task (the database sets the parent; a restore checks
  // its source first, AF093): a checkpoint of no such task does not exist.
  task_checkpoints_parent_fk: checkpointLink,
  task_checkpoints_restored_from_fk: checkpointLink,
  self_reviews_execution_iteration_key: duplicate('self review', 'iteration'),
  self_reviews_task_iteration_key: duplicate('self review', 'iteration'),
  wiki_pages_tenant_slug_key: duplicate('wiki entry', 'slug'),
  wiki_pages_project_slug_key: duplicate('wiki entry', 'slug'),
  wiki_pages_tenant_title_key: duplicate('wiki entry', 'title'),
  wiki_pages_project_title_key: duplicate('wiki entry', 'title'),
  wiki_entries_open_key: (error) =>
    new ConflictError('proposal_open', `the wiki entry already has an open proposal${named(error)}`, {
      cause: error,
      entity: 'wiki entry',
      field: 'entryId',
    }),
  work_sessions_open_key: (error) =>
    new ConflictError('session_open', `the agent already has an open work session${named(error)}`, {
      cause: error,
      entity: 'work session',
      field: 'agentId',
    }),
};

interface RaisedError {
  sqlState: string;
  /** When the SQLSTATE is a standard one, the message our function raises with it. */
  message?: RegExp;
  translate: (error: DatabaseError, match: RegExpExecArray | null) => AgentflowError;
}

/** What agentflow.add_usage and agentflow.require_usable_tenant (migration 2) raise. */
export const RAISED_ERRORS: readonly RaisedError[] = [
  {
    sqlState: 'AF001',
    translate: (error) =>
      new ForbiddenError('quota_exceeded', error.message, { cause: error, entity: 'tenant' }),
  },
  {
    sqlState: 'AF002',
    translate: (error) =>
      new ConflictError('usage_underflow', error.message, { cause: error, entity: 'tenant' }),
  },
  {
    sqlState: 'AF003',
    translate: (error) =>
      new ForbiddenError('tenant_unavailable', error.message, { cause: error, entity: 'tenant' }),
  },
  // The timeline's triggers (migration 7).
  {
    sqlState: 'AF030',
    translate: (error) =>
      new ConflictError('session_stopped', error.message, { cause: error, entity: 'work session' }),
  },
  {
    sqlState: 'AF031',
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, { cause: error, entity: 'work session' }),
  },
  {
    sqlState: 'AF032',
    message: /^agent (\S+) not found$/,
    translate: (error, match) => new NotFoundError('agent', match?.[1], { cause: error }),
  },
  {
    sqlState: 'AF033',
    translate: (error) =>
      new ConflictError('agent_unavailable', error.message, { cause: error, entity: 'agent' }),
  },
  {
    // An event id given with OVERRIDING SYSTEM VALUE in a session that drew none: the guard of
    // migration 7 compares it with currval(), which has nothing to say yet. A forged id either way.
    sqlState: '55000',
    message: /^currval of sequence "events_id_seq" is not yet defined in this session$/,
    translate: (error) =>
      new ForbiddenError('permission_denied', "event ids are the database's: an id was given", {
        cause: error,
        entity: 'event',
      }),
  },
  {
    sqlState: 'AF040', // a KPI record older than the agent's latest (migration 9)
    translate: (error) => new ConflictError('out_of_order', error.message, { cause: error, entity: 'kpi' }),
  },
  {
    sqlState: 'P0002', // no_data_found, from add_usage
    message: /^tenant (\S+) not found$/,
    translate: (error, match) => new NotFoundError('tenant', match?.[1], { cause: error }),
  },
  // Migration 6: the agents lifecycle trigger and agentflow.require_usable_actor.
  {
    sqlState: 'AF010',
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'agent',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF011',
    translate: (error) =>
      new NotFoundError('agent', /^agent (\S+) is deleted$/.exec(error.message)?.[1], { cause: error }),
  },
  {
    sqlState: 'AF012',
    translate: (error) =>
      new ForbiddenError('actor_unavailable', error.message, { cause: error, entity: 'agent' }),
  },
  // Migration 13: the tasks state machine and assignment rules.
  {
    sqlState: 'AF050',
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'task',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF051',
    translate: (error) =>
      new NotFoundError('task', /^task (\S+) is deleted$/.exec(error.message)?.[1], { cause: error }),
  },
  {
    sqlState: 'AF052',
    translate: (error) =>
      new ConflictError('retries_exhausted', error.message, {
        cause: error,
        entity: 'task',
        field: 'retryCount',
      }),
  },
  {
    sqlState: 'AF053',
    translate: (error) =>
      new ConflictError('agent_on_probation', error.message, {
        cause: error,
        entity: 'task',
        field: 'assigneeAgentId',
      }),
  },
  // Migration 14: the task graph's edge trigger.
  {
    sqlState: 'AF060',
    message: /^task (\S+) not found$/,
    translate: (error, match) => new NotFoundError('task', match?.[1], { cause: error }),
  },
  {
    sqlState: 'AF061',
    translate: (error) =>
      new ValidationError(error.message, [{ path: 'dependsOnId', message: error.message }], {
        cause: error,
        entity: 'task dependency',
      }),
  },
  {
    sqlState: 'AF062',
    translate: (error) =>
      new ConflictError('cycle', error.message, {
        cause: error,
        entity: 'task dependency',
        field: 'dependsOnId',
      }),
  },
  // Migration 15: the task executions state machine.
  {
    sqlState: 'AF070',
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'task execution',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF071',
    translate: (error) =>
      new ConflictError('execution_finished', error.message, { cause: error, entity: 'task execution' }),
  },
  {
    sqlState: 'AF072',
    translate: (error) =>
      new ConflictError('usage_refused', error.message, { cause: error, entity: 'task execution' }),
  },
  // Migration 16: artifacts and approvals.
  {
    sqlState: 'AF080', // an approval of a task not in progress, or a decision on a task not in review
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'task',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF081',
    translate: (error) =>
      new ConflictError('approval_decided', error.message, {
        cause: error,
        entity: 'approval',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF082',
    translate: (error) =>
      new ForbiddenError('approver_required', error.message, { cause: error, entity: 'approval' }),
  },
  {
    sqlState: 'AF083',
    translate: (error) =>
      new ValidationError(error.message, [{ path: 'artifactIds', message: error.message }], {
        cause: error,
        entity: 'approval',
        code: 'invalid_reference',
      }),
  },
  {
    sqlState: 'AF084',
    translate: (error) =>
      new ConflictError('approval_pending', error.message, {
        cause: error,
        entity: 'task',
        field: 'status',
      }),
  },
  // Migration 17: task comments, attachments and checkpoints (a forged author or uploader is
  // insufficient_privilege, as for events: ForbiddenError permission_denied).
  {
    sqlState: 'AF091', // someone else's comment edited, or deleted by neither its author nor an owner/admin
    translate: (error) =>
      new ForbiddenError('not_author', error.message, { cause: error, entity: entityOf(error) }),
  },
  {
    sqlState: 'AF092', // a deleted comment or attachment is frozen
    message: /^(task comment|task attachment) (\S+) is deleted$/,
    translate: (error, match) => new NotFoundError(match![1]!, match![2], { cause: error }),
  },
  {
    sqlState: 'AF093', // a restore of a checkpoint of another task (or of none)
    message: /^task checkpoint (\S+) not found/,
    translate: (error, match) => new NotFoundError('task checkpoint', match?.[1], { cause: error }),
  },
  // Migration 18: lessons.
  {
    sqlState: 'AF100',
    translate: (error) =>
      new ForbiddenError('permission_denied', error.message, { cause: error, entity: 'lesson' }),
  },
  {
    sqlState: 'AF101',
    translate: (error) =>
      new NotFoundError('lesson', /^lesson (\S+) is deleted$/.exec(error.message)?.[1], { cause: error }),
  },
  // Migration 19: the wiki's guard trigger.
  {
    sqlState: 'AF110',
    translate: (error) =>
      new ConflictError('version_frozen', error.message, { cause: error, entity: 'wiki entry' }),
  },
  {
    sqlState: 'AF111',
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'wiki entry',
        field: 'status',
      }),
  },
  {
    sqlState: 'AF112', // only organization agents propose, each as itself; only the proposer revises or submits
    translate: (error) =>
      new ForbiddenError('permission_denied', error.message, { cause: error, entity: 'wiki entry' }),
  },
  {
    sqlState: 'AF113', // only a human member whose role may approve decides
    translate: (error) =>
      new ForbiddenError('permission_denied', error.message, { cause: error, entity: 'wiki entry' }),
  },
  {
    sqlState: 'AF114',
    translate: (error) =>
      new NotFoundError('wiki entry', /^wiki entry (\S+) not found$/.exec(error.message)?.[1], {
        cause: error,
      }),
  },
  {
    sqlState: 'AF115',
    translate: (error) =>
      new ValidationError(error.message, [{ path: 'reason', message: error.message }], {
        cause: error,
        entity: 'wiki entry',
      }),
  },
  {
    sqlState: 'AF116', // a version of a deleted entry: frozen, gone to readers
    translate: (error) =>
      new NotFoundError('wiki entry', /^wiki entry (\S+) is deleted$/.exec(error.message)?.[1], {
        cause: error,
      }),
  },
  // Migration 20: evidence.
  {
    sqlState: 'AF120', // a verification taken back
    translate: (error) =>
      new ConflictError('invalid_transition', error.message, {
        cause: error,
        entity: 'evidence',
        field: 'isVerified',
      }),
  },
];

/**
 * The parent a tenant foreign key declared by `tenantKeys` points at (`<table>_<parent>_fk`, see
 * src/shared/columns.ts), or undefined for any other constraint.
 */
function tenantParentOf(error: DatabaseError): string | undefined {
  const prefix = error.table === undefined ? undefined : `${error.table}_`;
  const name = error.constraint;
  if (!prefix || !name?.startsWith(prefix) || !name.endsWith('_fk')) return undefined;
  return name.slice(prefix.length, -'_fk'.length) || undefined;
}

/**
 * On delete the referencing rows are the problem; on insert or update the referenced row is
 * missing. Through a tenant foreign key (`(tenant_id, <parent>_id)`) the parent is unknown,
 * another tenant's or, for projects, deleted (the require_live_project trigger raises under the
 * same name): to the caller it does not exist, a NotFoundError for the parent.
 */
const foreignKey: Translate = (error) => {
  // PostgreSQL says "still referenced" only in the DETAIL; the message names the delete side.
  if (/still referenced/.test(error.detail ?? '') || error.message.startsWith('update or delete on table'))
    return new ConflictError('still_referenced', `still referenced by other rows${named(error)}`, {
      cause: error,
      entity: entityOf(error),
    });
  const parent = tenantParentOf(error);
  if (parent) {
    const key =
      new RegExp(`^${parent} (\\S+) is deleted$`).exec(error.message)?.[1] ??
      /^Key \(tenant_id, \w+\)=\([^,]+, ([^)]+)\)/.exec(error.detail ?? '')?.[1];
    return new NotFoundError(parent.replaceAll('_', ' '), key, { cause: error });
  }
  return new ValidationError(`references a row that does not exist in this tenant${named(error)}`, [], {
    cause: error,
    entity: entityOf(error),
    code: 'invalid_reference',
  });
};

/** The database refused a value; it names the column when it knows it (NOT NULL, a trigger's RAISE … COLUMN). */
const invalidValue: Translate = (error) =>
  new ValidationError(
    `${error.message}${named(error)}`,
    error.column ? [{ path: error.column, message: error.message }] : [],
    { cause: error, entity: entityOf(error) },
  );

const forbidden =
  (code: ForbiddenError['code']): Translate =>
  (error) =>
    new ForbiddenError(code, error.message, { cause: error, entity: entityOf(error) });

const concurrent =
  (code: ConflictError['code']): Translate =>
  (error) =>
    new ConflictError(code, `concurrent update, retry: ${error.message}`, {
      cause: error,
      entity: entityOf(error),
    });

export const KIND_ERRORS: Readonly<Partial<Record<SqlStateKind, Translate>>> = {
  unique_violation: (error) =>
    new ConflictError('duplicate', `already exists${named(error)}`, {
      cause: error,
      entity: entityOf(error),
    }),
  foreign_key_violation: foreignKey,
  check_violation: invalidValue,
  not_null_violation: invalidValue,
  exclusion_violation: invalidValue,
  invalid_text_representation: invalidValue,
  string_data_right_truncation: invalidValue,
  numeric_value_out_of_range: invalidValue,
  insufficient_privilege: forbidden('permission_denied'),
  read_only_transaction: forbidden('read_only_transaction'),
  serialization_failure: concurrent('serialization_failure'),
  deadlock_detected: concurrent('deadlock'),
  lock_not_available: concurrent('lock_not_available'),
};

/** The domain error for a database failure, or the DatabaseError itself when none applies. */
export function mapDatabaseError(error: DatabaseError): AgentflowError {
  for (const raised of RAISED_ERRORS) {
    if (raised.sqlState !== error.sqlState) continue;
    const match = raised.message ? raised.message.exec(error.message) : null;
    if (!raised.message || match) return raised.translate(error, match);
  }
  const byConstraint = error.constraint === undefined ? undefined : CONSTRAINT_ERRORS[error.constraint];
  return (byConstraint ?? KIND_ERRORS[error.kind])?.(error) ?? error;
}
