import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AgentflowError,
  CONSTRAINT_ERRORS,
  ConflictError,
  DatabaseError,
  ForbiddenError,
  mapDatabaseError,
  NotFoundError,
  type ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant } from '../harness/fixtures.ts';

interface Failure {
  message?: string;
  sqlState?: string;
  constraint?: string;
  table?: string;
  column?: string;
  detail?: string;
}

/** A DatabaseError as an engine makes it from a driver error with these fields. */
function failure(fields: Failure): DatabaseError {
  return new DatabaseError(fields.message ?? 'failed', {
    sqlState: fields.sqlState,
    query: 'SELECT 1',
    params: [],
    constraint: fields.constraint,
    table: fields.table,
    column: fields.column,
    detail: fields.detail,
  });
}

/** What a program reads from an error: no message parsing. */
function summary(error: AgentflowError) {
  return {
    type: error.constructor.name,
    code: error.code,
    retryable: error.retryable,
    entity: error.entity,
    ...(error instanceof ConflictError ? { field: error.field } : {}),
    ...(error instanceof NotFoundError ? { key: error.key } : {}),
  };
}

function mapped(fields: Failure) {
  const source = failure(fields);
  const error = mapDatabaseError(source);
  // Every domain error keeps the failed statement reachable.
  if (error !== source) expect(error.cause).toBe(source);
  return summary(error);
}

const tenantId = randomUUID();
const projectId = randomUUID();

describe('the error mapping table: SQLSTATEs our SQL functions raise', () => {
  it('AF001 (add_usage: quota exceeded) is ForbiddenError quota_exceeded', () => {
    expect(
      mapped({ sqlState: 'AF001', message: 'quota exceeded for tokens: 5 used of 5, 1 more requested' }),
    ).toEqual({ type: 'ForbiddenError', code: 'quota_exceeded', retryable: false, entity: 'tenant' });
  });

  it('AF002 (add_usage: below zero) is ConflictError usage_underflow', () => {
    expect(mapped({ sqlState: 'AF002' })).toEqual({
      type: 'ConflictError',
      code: 'usage_underflow',
      retryable: false,
      entity: 'tenant',
      field: undefined,
    });
  });

  it('AF003 (require_usable_tenant) is ForbiddenError tenant_unavailable, a code of its own', () => {
    expect(mapped({ sqlState: 'AF003', message: `tenant ${tenantId} is suspended` })).toEqual({
      type: 'ForbiddenError',
      code: 'tenant_unavailable',
      retryable: false,
      entity: 'tenant',
    });
  });

  it("AF040 (a KPI record older than the agent's latest) is ConflictError out_of_order", () => {
    expect(mapped({ sqlState: 'AF040' })).toEqual({
      type: 'ConflictError',
      code: 'out_of_order',
      retryable: false,
      entity: 'kpi',
      field: undefined,
    });
  });

  it('the timeline triggers raise AF030-AF033: stopped session, status backwards, mention of no agent, terminated agent', () => {
    const agentId = randomUUID();
    expect(mapped({ sqlState: 'AF030', message: 'work session x is stopped' })).toEqual({
      type: 'ConflictError',
      code: 'session_stopped',
      retryable: false,
      entity: 'work session',
    });
    expect(mapped({ sqlState: 'AF031', message: 'work session x is logging' })).toMatchObject({
      code: 'invalid_transition',
      entity: 'work session',
    });
    expect(mapped({ sqlState: 'AF032', message: `agent ${agentId} not found` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'agent',
      key: agentId,
    });
    expect(mapped({ sqlState: 'AF033', message: `agent ${agentId} is terminated` })).toMatchObject({
      type: 'ConflictError',
      code: 'agent_unavailable',
      entity: 'agent',
    });
  });

  it("P0002 with add_usage's message is NotFoundError for that tenant; any other P0002 stays a DatabaseError", () => {
    expect(mapped({ sqlState: 'P0002', message: `tenant ${tenantId} not found` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'tenant',
      key: tenantId,
    });
    expect(mapped({ sqlState: 'P0002', message: 'query returned no rows' }).type).toBe('DatabaseError');
  });

  it('AF080-AF084 (approvals, migration 16): task not in progress, decided, not an approver, stray artifact, held in review', () => {
    expect(mapped({ sqlState: 'AF080', message: 'task x is backlog' })).toEqual({
      type: 'ConflictError',
      code: 'invalid_transition',
      retryable: false,
      entity: 'task',
      field: 'status',
    });
    expect(mapped({ sqlState: 'AF081', message: 'approval x is already approved' })).toEqual({
      type: 'ConflictError',
      code: 'approval_decided',
      retryable: false,
      entity: 'approval',
      field: 'status',
    });
    expect(mapped({ sqlState: 'AF082', message: 'approval x is decided by a human' })).toEqual({
      type: 'ForbiddenError',
      code: 'approver_required',
      retryable: false,
      entity: 'approval',
    });
    const stray = mapDatabaseError(
      failure({ sqlState: 'AF083', message: 'artifact x is not an artifact of task y' }),
    );
    expect(summary(stray)).toEqual({
      type: 'ValidationError',
      code: 'invalid_reference',
      retryable: false,
      entity: 'approval',
    });
    expect((stray as ValidationError).issues.map((issue) => issue.path)).toEqual(['artifactIds']);
    expect(mapped({ sqlState: 'AF084', message: 'task x awaits approval y' })).toEqual({
      type: 'ConflictError',
      code: 'approval_pending',
      retryable: false,
      entity: 'task',
      field: 'status',
    });
  });

  it('AF100 / AF101 (lessons, migration 18): validation by a non-human, a deleted lesson', () => {
    const id = randomUUID();
    expect(
      mapped({ sqlState: 'AF100', message: 'only a human member of the tenant validates a lesson' }),
    ).toEqual({
      type: 'ForbiddenError',
      code: 'permission_denied',
      retryable: false,
      entity: 'lesson',
    });
    expect(mapped({ sqlState: 'AF101', message: `lesson ${id} is deleted` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'lesson',
      key: id,
    });
  });

  it('AF110-AF116 (the wiki, migration 19): frozen version, refused move, proposer and approver rules, no entry, no reason, deleted entry', () => {
    const id = randomUUID();
    expect(mapped({ sqlState: 'AF110', message: `wiki version ${id} is approved` })).toEqual({
      type: 'ConflictError',
      code: 'version_frozen',
      retryable: false,
      entity: 'wiki entry',
      field: undefined,
    });
    expect(mapped({ sqlState: 'AF111', message: 'wiki version x cannot go from draft to approved' })).toEqual(
      {
        type: 'ConflictError',
        code: 'invalid_transition',
        retryable: false,
        entity: 'wiki entry',
        field: 'status',
      },
    );
    for (const sqlState of ['AF112', 'AF113']) {
      expect(mapped({ sqlState, message: 'refused' })).toEqual({
        type: 'ForbiddenError',
        code: 'permission_denied',
        retryable: false,
        entity: 'wiki entry',
      });
    }
    expect(mapped({ sqlState: 'AF114', message: `wiki entry ${id} not found` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'wiki entry',
      key: id,
    });
    const noReason = mapDatabaseError(failure({ sqlState: 'AF115', message: 'a rejection needs a reason' }));
    expect(summary(noReason)).toMatchObject({ type: 'ValidationError', entity: 'wiki entry' });
    expect((noReason as ValidationError).issues.map((issue) => issue.path)).toEqual(['reason']);
    expect(mapped({ sqlState: 'AF116', message: `wiki entry ${id} is deleted` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'wiki entry',
      key: id,
    });
  });

  it('AF120 (evidence, migration 20): a verification taken back is a refused transition', () => {
    expect(mapped({ sqlState: 'AF120', message: 'verified evidence stays verified' })).toEqual({
      type: 'ConflictError',
      code: 'invalid_transition',
      retryable: false,
      entity: 'evidence',
      field: 'isVerified',
    });
  });

  it('AF010 / AF011 / AF012 (agents, migration 6) are a refused transition, a deleted agent, an unusable actor', () => {
    const agentId = randomUUID();
    expect(
      mapped({ sqlState: 'AF010', message: `agent ${agentId} cannot go from terminated to active` }),
    ).toEqual({
      type: 'ConflictError',
      code: 'invalid_transition',
      retryable: false,
      entity: 'agent',
      field: 'status',
    });
    expect(mapped({ sqlState: 'AF011', message: `agent ${agentId} is deleted` })).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'agent',
      key: agentId,
    });
    expect(
      mapped({ sqlState: 'AF012', message: `agent ${agentId} cannot act in tenant ${tenantId}` }),
    ).toEqual({
      type: 'ForbiddenError',
      code: 'actor_unavailable',
      retryable: false,
      entity: 'agent',
    });
  });
});

describe('the error mapping table: named constraints', () => {
  const duplicates: Record<string, [entity: string, field: string]> = {
    tenants_slug_live_key: ['tenant', 'slug'],
    users_email_live_key: ['user', 'email'],
    users_github_id_live_key: ['user', 'githubId'],
    memberships_user_key: ['membership', 'userId'],
    projects_slug_live_key: ['project', 'slug'],
    project_files_path_key: ['project file', 'path'],
    agent_states_project_key: ['agent state', 'projectId'],
    agents_code_key: ['agent', 'code'],
    agents_org_name_live_key: ['agent', 'name'],
    agents_project_name_live_key: ['agent', 'name'],
    agent_credentials_prefix_key: ['agent credential', 'keyPrefix'],
    kpis_agent_recorded_key: ['kpi', 'recordedAt'],
    task_comments_github_comment_live_key: ['task comment', 'githubCommentId'],
    task_dependencies_pkey: ['task dependency', 'dependsOnId'],
    self_reviews_execution_iteration_key: ['self review', 'iteration'],
    self_reviews_task_iteration_key: ['self review', 'iteration'],
    wiki_pages_tenant_slug_key: ['wiki entry', 'slug'],
    wiki_pages_project_slug_key: ['wiki entry', 'slug'],
    wiki_pages_tenant_title_key: ['wiki entry', 'title'],
    wiki_pages_project_title_key: ['wiki entry', 'title'],
  };
  for (const [constraint, [entity, field]] of Object.entries(duplicates)) {
    it(`${constraint} is ConflictError duplicate of ${entity}.${field}`, () => {
      expect(mapped({ sqlState: '23505', constraint })).toEqual({
        type: 'ConflictError',
        code: 'duplicate',
        retryable: false,
        entity,
        field,
      });
    });
  }

  // Any tenant foreign key named by tenantKeys, a future table's included: no line per table.
  for (const [table, constraint] of [
    ['project_files', 'project_files_project_fk'],
    ['agent_states', 'agent_states_project_fk'],
    ['tasks', 'tasks_project_fk'],
  ] as const) {
    it(`${constraint} is NotFoundError project, with the id the database names`, () => {
      const notFound = { type: 'NotFoundError', code: 'not_found', retryable: false, entity: 'project' };
      // The require_live_project trigger, for a deleted project.
      expect(
        mapped({ sqlState: '23503', table, constraint, message: `project ${projectId} is deleted` }),
      ).toEqual({
        ...notFound,
        key: projectId,
      });
      // The foreign key, where the database shows the key (not under row-level security).
      const detail = `Key (tenant_id, project_id)=(${tenantId}, ${projectId}) is not present in table "projects".`;
      expect(mapped({ sqlState: '23503', table, constraint, detail })).toEqual({
        ...notFound,
        key: projectId,
      });
      // Under row-level security it shows no value: still the project, without its id.
      expect(
        mapped({ sqlState: '23503', table, constraint, detail: 'Key is not present in table "projects".' }),
      ).toEqual({
        ...notFound,
        key: undefined,
      });
    });
  }

  // The knowledge issue's links (migrations 18 and 20): a run or evidence that is not the tenant's.
  for (const [table, constraint, entity] of [
    ['self_reviews', 'self_reviews_execution_fk', 'execution'],
    ['task_attachments', 'task_attachments_evidence_fk', 'evidence'],
    ['execution_evidence', 'execution_evidence_execution_fk', 'execution'],
    ['execution_evidence', 'execution_evidence_evidence_fk', 'evidence'],
  ] as const) {
    it(`${constraint} is NotFoundError ${entity}; deleting what it names is ConflictError still_referenced`, () => {
      const id = randomUUID();
      const column = constraint.includes('evidence_fk') ? 'evidence_id' : 'execution_id';
      const detail = `Key (tenant_id, ${column})=(${tenantId}, ${id}) is not present in table "x".`;
      expect(mapped({ sqlState: '23503', table, constraint, detail })).toEqual({
        type: 'NotFoundError',
        code: 'not_found',
        retryable: false,
        entity,
        key: id,
      });
      expect(
        mapped({
          sqlState: '23503',
          table,
          constraint,
          message: `update or delete on table "x" violates foreign key constraint "${constraint}" on table "${table}"`,
          detail: 'Key (tenant_id, id) is still referenced.',
        }),
      ).toMatchObject({ type: 'ConflictError', code: 'still_referenced' });
    });
  }

  it('work_sessions_open_key is ConflictError session_open: the agent already has an open session', () => {
    expect(mapped({ sqlState: '23505', constraint: 'work_sessions_open_key' })).toEqual({
      type: 'ConflictError',
      code: 'session_open',
      retryable: false,
      entity: 'work session',
      field: 'agentId',
    });
  });

  it('wiki_entries_open_key is ConflictError proposal_open: the entry already has an open proposal', () => {
    expect(mapped({ sqlState: '23505', constraint: 'wiki_entries_open_key' })).toEqual({
      type: 'ConflictError',
      code: 'proposal_open',
      retryable: false,
      entity: 'wiki entry',
      field: 'entryId',
    });
  });

  it('approvals_pending_key is ConflictError approval_pending: the task already awaits a decision', () => {
    expect(mapped({ sqlState: '23505', constraint: 'approvals_pending_key' })).toEqual({
      type: 'ConflictError',
      code: 'approval_pending',
      retryable: false,
      entity: 'approval',
      field: 'taskId',
    });
  });

  it('task checkpoints: a sequence taken twice is a retryable conflict; a link to no checkpoint of the task is NotFoundError', () => {
    expect(mapped({ sqlState: '23505', constraint: 'task_checkpoints_sequence_key' })).toEqual({
      type: 'ConflictError',
      code: 'serialization_failure',
      retryable: true,
      entity: 'task checkpoint',
      field: undefined,
    });
    const checkpointId = randomUUID();
    for (const [constraint, column] of [
      ['task_checkpoints_parent_fk', 'parent_id'],
      ['task_checkpoints_restored_from_fk', 'restored_from_id'],
    ] as const) {
      const detail = `Key (tenant_id, task_id, ${column})=(${tenantId}, ${randomUUID()}, ${checkpointId}) is not present in table "task_checkpoints".`;
      expect(mapped({ sqlState: '23503', table: 'task_checkpoints', constraint, detail })).toEqual({
        type: 'NotFoundError',
        code: 'not_found',
        retryable: false,
        entity: 'task checkpoint',
        key: checkpointId,
      });
    }
  });

  it('has a test row above for every constraint it names', () => {
    expect(Object.keys(CONSTRAINT_ERRORS).sort()).toEqual(
      [
        ...Object.keys(duplicates),
        'work_sessions_open_key',
        'approvals_pending_key',
        'task_checkpoints_sequence_key',
        'task_checkpoints_parent_fk',
        'task_checkpoints_restored_from_fk',
        'wiki_entries_open_key',
      ].sort(),
    );
  });

  it('AF091 / AF092 / AF093 (task notes, migration 17): not the author, a deleted note, a restore from elsewhere', () => {
    const id = randomUUID();
    expect(
      mapped({
        sqlState: 'AF091',
        table: 'task_comments',
        message: `only its author edits task comment ${id}`,
      }),
    ).toEqual({ type: 'ForbiddenError', code: 'not_author', retryable: false, entity: 'task comment' });
    for (const entity of ['task comment', 'task attachment']) {
      expect(mapped({ sqlState: 'AF092', message: `${entity} ${id} is deleted` })).toEqual({
        type: 'NotFoundError',
        code: 'not_found',
        retryable: false,
        entity,
        key: id,
      });
    }
    expect(
      mapped({ sqlState: 'AF093', message: `task checkpoint ${id} not found in task ${randomUUID()}` }),
    ).toEqual({
      type: 'NotFoundError',
      code: 'not_found',
      retryable: false,
      entity: 'task checkpoint',
      key: id,
    });
  });
});

describe('the error mapping table: SQLSTATE families', () => {
  it('another unique violation is ConflictError duplicate of the table it names', () => {
    expect(mapped({ sqlState: '23505', constraint: 'users_pkey', table: 'users' })).toEqual({
      type: 'ConflictError',
      code: 'duplicate',
      retryable: false,
      entity: 'user',
      field: undefined,
    });
  });

  it('a foreign key blocking a delete is ConflictError still_referenced; a missing row is ValidationError invalid_reference', () => {
    expect(
      mapped({
        sqlState: '23503',
        constraint: 'memberships_user_id_fkey',
        table: 'memberships',
        message:
          'update or delete on table "users" violates foreign key constraint "memberships_user_id_fkey"',
      }),
    ).toMatchObject({ type: 'ConflictError', code: 'still_referenced', retryable: false });
    expect(
      mapped({ sqlState: '23503', constraint: 'memberships_user_id_fkey', table: 'memberships' }),
    ).toMatchObject({ type: 'ValidationError', code: 'invalid_reference', entity: 'membership' });
  });

  for (const sqlState of ['23514', '23502', '23P01', '22P02', '22001', '22003']) {
    it(`${sqlState} is ValidationError validation_failed, listing the column the database names`, () => {
      const source = failure({ sqlState, table: 'projects', column: 'name', message: 'bad value' });
      const error = mapDatabaseError(source) as ValidationError;
      expect(summary(error)).toEqual({
        type: 'ValidationError',
        code: 'validation_failed',
        retryable: false,
        entity: 'project',
      });
      expect(error.issues).toEqual([{ path: 'name', message: 'bad value' }]);
    });
  }

  it('42501 is ForbiddenError permission_denied; 25006 is ForbiddenError read_only_transaction', () => {
    expect(mapped({ sqlState: '42501', table: 'audit_logs' })).toEqual({
      type: 'ForbiddenError',
      code: 'permission_denied',
      retryable: false,
      entity: 'audit log',
    });
    expect(mapped({ sqlState: '25006' })).toMatchObject({
      type: 'ForbiddenError',
      code: 'read_only_transaction',
    });
  });

  it('serialization failures, deadlocks and lock timeouts are retryable conflicts; a duplicate is not', () => {
    expect(mapped({ sqlState: '40001' })).toMatchObject({
      type: 'ConflictError',
      code: 'serialization_failure',
      retryable: true,
    });
    expect(mapped({ sqlState: '40P01' })).toMatchObject({
      type: 'ConflictError',
      code: 'deadlock',
      retryable: true,
    });
    expect(mapped({ sqlState: '55P03' })).toMatchObject({
      type: 'ConflictError',
      code: 'lock_not_available',
      retryable: true,
    });
    expect(mapped({ sqlState: '23505' }).retryable).toBe(false);
    // Untranslated (as the engine throws it), the DatabaseError says so too.
    expect(failure({ sqlState: '40001' }).retryable).toBe(true);
  });

  it('anything else stays the DatabaseError, not retryable', () => {
    expect(mapped({ sqlState: '42P01' })).toEqual({
      type: 'DatabaseError',
      code: 'database_error',
      retryable: false,
      entity: undefined,
    });
  });
});

describeEachEngine('error codes through the repositories', (h) => {
  it('names every constraint of the table in the live schema', async () => {
    const rows = await h.asOwner((c) =>
      c.query<{ name: string }>(
        `SELECT conname AS name FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         UNION SELECT relname FROM pg_class WHERE relkind = 'i' AND relnamespace = 'public'::regnamespace`,
      ),
    );
    const names = new Set(rows.map((row) => row.name));
    for (const constraint of Object.keys(CONSTRAINT_ERRORS)) expect(names, constraint).toContain(constraint);
  });

  it('tells a duplicate, a stale version and an illegal transition apart', async () => {
    const f = await createTenant(h.store);
    const duplicate = await caught(
      h.store.withTenant(f.context, async (tx) => {
        await tx.projects.create({ slug: 'twice', name: 'One' });
        await tx.projects.create({ slug: 'twice', name: 'Two' });
      }),
    );
    expect(summary(duplicate as AgentflowError)).toEqual({
      type: 'ConflictError',
      code: 'duplicate',
      retryable: false,
      entity: 'project',
      field: 'slug',
    });
    const project = await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'p', name: 'P' }));
    await h.store.withTenant(f.context, (tx) =>
      tx.agentStates.save({ projectId: project.id, state: {}, expectedVersion: null }),
    );
    const stale = await caught(
      h.store.withTenant(f.context, (tx) =>
        tx.agentStates.save({ projectId: project.id, state: {}, expectedVersion: 7 }),
      ),
    );
    expect(summary(stale as AgentflowError)).toMatchObject({ code: 'stale_version', entity: 'agent state' });
    const transition = await caught(h.store.withTenant(f.context, (tx) => tx.projects.unarchive(project.id)));
    expect(summary(transition as AgentflowError)).toMatchObject({
      code: 'invalid_transition',
      entity: 'project',
    });
    const tenantTransition = await caught(
      h.store.asService({ actor: 'test' }, (svc) => svc.tenants.setStatus(f.tenant.id, 'pending')),
    );
    expect(summary(tenantTransition as AgentflowError)).toMatchObject({
      type: 'ConflictError',
      code: 'invalid_transition',
      entity: 'tenant',
    });
  });

  it('tells quota exceeded and tenant unavailable apart', async () => {
    const f = await createTenant(h.store, { quotas: { tokens: 1 } });
    const quota = await caught(h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('tokens', 2)));
    expect(quota).toBeInstanceOf(ForbiddenError);
    expect((quota as ForbiddenError).code).toBe('quota_exceeded');
    await h.store.asService({ actor: 'test' }, (svc) => svc.tenants.setStatus(f.tenant.id, 'suspended'));
    const unavailable = await caught(h.store.withTenant(f.context, (tx) => tx.tenants.current()));
    expect(unavailable).toBeInstanceOf(ForbiddenError);
    expect((unavailable as ForbiddenError).code).toBe('tenant_unavailable');
  });

  it('maps an unknown tenant in add_usage to NotFoundError with its id', async () => {
    const unknown = randomUUID();
    const error = await caught(
      h.store.asService({ actor: 'test' }, (svc) => svc.tenants.adjustUsage(unknown, 'tokens', 1)),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(summary(error as NotFoundError)).toMatchObject({ entity: 'tenant', key: unknown });
  });

  it('maps a file of an unknown or deleted project to NotFoundError project', async () => {
    const f = await createTenant(h.store);
    const unknown = await caught(
      h.store.withTenant(f.context, (tx) =>
        tx.projectFiles.upsert({ projectId: randomUUID(), path: 'a.md', content: '' }),
      ),
    );
    expect(summary(unknown as AgentflowError)).toMatchObject({ type: 'NotFoundError', entity: 'project' });
    const deleted = await h.store.withTenant(f.context, async (tx) => {
      const project = await tx.projects.create({ slug: 'gone', name: 'Gone' });
      await tx.projects.delete(project.id);
      return project.id;
    });
    const error = await caught(
      h.store.withTenant(f.context, (tx) =>
        tx.agentStates.save({ projectId: deleted, state: {}, expectedVersion: null }),
      ),
    );
    expect(summary(error as AgentflowError)).toMatchObject({
      type: 'NotFoundError',
      entity: 'project',
      key: deleted,
    });
    expect((error as Error).cause).toBeInstanceOf(DatabaseError);
  });
});
