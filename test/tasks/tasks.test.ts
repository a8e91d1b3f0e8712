import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  type CreateTaskInput,
  ForbiddenError,
  NotFoundError,
  TASK_STATUSES,
  TASK_TRANSITIONS,
  type Task,
  type TaskStatus,
  type TenantTx,
  type TransitionTaskInput,
  ValidationError,
} from '../../src/index.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, ownerCount } from '../harness/fixtures.ts';

/** The moves that bring a new backlog (or draft / assigned) task to each status. */
const PATH: Record<TaskStatus, { initial: 'draft' | 'backlog' | 'assigned'; moves: TransitionTaskInput[] }> =
  {
    draft: { initial: 'draft', moves: [] },
    backlog: { initial: 'backlog', moves: [] },
    assigned: { initial: 'assigned', moves: [] },
    in_progress: { initial: 'backlog', moves: [{ status: 'in_progress' }] },
    blocked: { initial: 'backlog', moves: [{ status: 'blocked', reason: 'waiting for the API' }] },
    in_review: { initial: 'backlog', moves: [{ status: 'in_progress' }, { status: 'in_review' }] },
    completed: { initial: 'backlog', moves: [{ status: 'in_progress' }, { status: 'completed' }] },
    failed: {
      initial: 'backlog',
      moves: [{ status: 'in_progress' }, { status: 'failed', error: { message: 'boom' } }],
    },
    cancelled: { initial: 'backlog', moves: [{ status: 'cancelled' }] },
  };

/** The input that moves a task to `status`, with what that status needs. */
function moveTo(status: TaskStatus): TransitionTaskInput {
  if (status === 'blocked') return { status, reason: 'blocked by a test' };
  if (status === 'failed') return { status, error: { message: 'failed in a test' } };
  return { status };
}

async function eventsOfTask(h: EngineHarness, taskId: string) {
  return h.asOwner((c) =>
    c.query<{ type: string; author_id: string | null; mentions: string[]; payload: Record<string, unknown> }>(
      `SELECT type, author_id, mentions, payload FROM events
        WHERE payload ->> 'taskId' = $1 OR (type = 'github_issue_assigned' AND payload ->> 'title' = $2)
        ORDER BY occurred_at, id`,
      [taskId, `issue of ${taskId}`],
    ),
  );
}

describeEachEngine('tasks', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);
  const newTask = (input: Partial<CreateTaskInput> = {}) =>
    asUser((tx) => tx.tasks.create({ projectId: f.projectId, title: 'Build the login form', ...input }));
  const agentWithStatus = async (status: 'probation' | 'inactive' | 'terminated') => {
    const agent = await createAgent(h.store, f.tenant.id);
    await asUser((tx) => tx.agents.changeStatus(agent, status));
    return agent;
  };

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  describe('create, read, list, update', () => {
    it('creates a task with the defaults, reads it back and lists it', async () => {
      const task = await newTask({ description: 'Email and password', successCriteria: ['tests pass'] });
      expect(task).toMatchObject({
        projectId: f.projectId,
        title: 'Build the login form',
        type: 'feature',
        status: 'backlog',
        phase: null,
        priority: 'P2',
        successCriteria: ['tests pass'],
        retryCount: 0,
        maxRetries: 3,
        startedAt: null,
        completedAt: null,
        deletedAt: null,
        metadata: {},
      });
      expect(await asUser((tx) => tx.tasks.get(task.id))).toEqual(task);
      const listed = await asUser((tx) => tx.tasks.list({ projectId: f.projectId, limit: 1000 }));
      expect(listed.items.map((t) => t.id)).toContain(task.id);
      // Another tenant sees nothing of it.
      await expect(h.store.withTenant(other.context, (tx) => tx.tasks.get(task.id))).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('pages newest first with a bounded limit and filters by status, priority and assignee', async () => {
      const project = await asUser((tx) =>
        tx.projects.create({ slug: `p-${randomInt(1e9)}`, name: 'Paging' }),
      );
      const made: Task[] = [];
      for (let i = 0; i < 5; i++) {
        made.push(
          await asUser((tx) =>
            tx.tasks.create({
              projectId: project.id,
              title: `task ${i}`,
              priority: i % 2 === 0 ? 'P1' : 'P3',
              ...(i === 4 ? { status: 'assigned', assigneeAgentId: f.lead } : {}),
            }),
          ),
        );
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await asUser((tx) =>
          tx.tasks.list({ projectId: project.id, limit: 2, ...(cursor ? { cursor } : {}) }),
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(made.map((t) => t.id).reverse());
      const p1 = await asUser((tx) => tx.tasks.list({ projectId: project.id, priority: 'P1' }));
      expect(p1.items.map((t) => t.title)).toEqual(['task 4', 'task 2', 'task 0']);
      const assigned = await asUser((tx) =>
        tx.tasks.list({
          projectId: project.id,
          status: ['assigned', 'in_progress'],
          assigneeAgentId: f.lead,
        }),
      );
      expect(assigned.items.map((t) => t.title)).toEqual(['task 4']);
      for (const limit of [0, 1001]) {
        await expect(asUser((tx) => tx.tasks.list({ limit }))).rejects.toBeInstanceOf(ValidationError);
      }
    });

    it('updates descriptive fields; a field the contract refuses is a ValidationError and writes nothing', async () => {
      const task = await newTask();
      const updated = await asUser((tx) =>
        tx.tasks.update(task.id, {
          title: 'Build the sign-in form',
          priority: 'P1',
          deadline: new Date('2030-01-01T00:00:00Z'),
          estimateHours: '2.50',
          agentQueue: ['architect', 'frontend_dev'],
          analysis: { complexity: 'low' },
        }),
      );
      expect(updated).toMatchObject({
        title: 'Build the sign-in form',
        priority: 'P1',
        estimateHours: '2.50',
        agentQueue: ['architect', 'frontend_dev'],
        analysis: { complexity: 'low' },
        status: 'backlog',
      });
      const audits = await ownerCount(h, `audit_logs WHERE table_name = 'tasks' AND row_id = $1`, [task.id]);
      for (const patch of [
        { status: 'completed' },
        { assigneeAgentId: f.lead },
        { retryCount: 0 },
        { projectId: f.otherProjectId },
        { title: '' },
        { estimateHours: 2.5 },
        { agentQueue: ['wizard'] },
        { title: 'ok', priority: 'P9' },
      ]) {
        const error = await caught(asUser((tx) => tx.tasks.update(task.id, patch as never)));
        expect(error, JSON.stringify(patch)).toBeInstanceOf(ValidationError);
      }
      expect(await asUser((tx) => tx.tasks.get(task.id))).toEqual(updated);
      expect(await ownerCount(h, `audit_logs WHERE table_name = 'tasks' AND row_id = $1`, [task.id])).toBe(
        audits,
      );
    });

    it('refuses bad input to create with a typed error and writes nothing', async () => {
      const before = await ownerCount(h, 'tasks WHERE tenant_id = $1', [f.tenant.id]);
      const feed = await ownerCount(h, 'activity_feed WHERE tenant_id = $1', [f.tenant.id]);
      const bad: Array<[string, unknown, new (...args: never[]) => Error]> = [
        ['no title', { projectId: f.projectId }, ValidationError],
        ['title too long', { projectId: f.projectId, title: 'x'.repeat(501) }, ValidationError],
        ['started', { projectId: f.projectId, title: 'x', status: 'in_progress' }, ValidationError],
        [
          'assigned without assignee',
          { projectId: f.projectId, title: 'x', status: 'assigned' },
          ValidationError,
        ],
        [
          'both assignees',
          { projectId: f.projectId, title: 'x', assigneeAgentId: f.lead, assigneeUserId: f.owner.id },
          ValidationError,
        ],
        ['issue without number', { projectId: f.projectId, title: 'x', githubIssueId: 5 }, ValidationError],
        ['unknown field', { projectId: f.projectId, title: 'x', retryCount: 2 }, ValidationError],
        ['unknown project', { projectId: other.projectId, title: 'x' }, NotFoundError],
        ['unknown agent', { projectId: f.projectId, title: 'x', assigneeAgentId: other.lead }, NotFoundError],
        ['NUL', { projectId: f.projectId, title: 'a\u0000b' }, ValidationError],
      ];
      for (const [label, input, type] of bad) {
        const error = await caught(asUser((tx) => tx.tasks.create(input as CreateTaskInput)));
        expect(error, label).toBeInstanceOf(type);
      }
      expect(await ownerCount(h, 'tasks WHERE tenant_id = $1', [f.tenant.id])).toBe(before);
      expect(await ownerCount(h, 'activity_feed WHERE tenant_id = $1', [f.tenant.id])).toBe(feed);
    });
  });

  describe('the state machine', () => {
    it('allows every move of TASK_TRANSITIONS and refuses every other one, through the repository and raw SQL', async () => {
      const pairs = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as const)).filter(
        ([from, to]) => from !== to,
      );
      // One task per pair, brought to its `from` status in one unit of work.
      const taskOf = await asUser(async (tx) => {
        const ids = new Map<string, string>();
        for (const [from, to] of pairs) {
          const task = await tx.tasks.create({
            projectId: f.projectId,
            title: `${from} -> ${to}`,
            status: PATH[from].initial,
            assigneeUserId: f.owner.id,
          });
          for (const move of PATH[from].moves) await tx.tasks.transition(task.id, move);
          ids.set(`${from}>${to}`, task.id);
        }
        return ids;
      });
      let allowed = 0;
      const refused: Array<[TaskStatus, TaskStatus, string]> = [];
      for (const [from, to] of pairs) {
        const id = taskOf.get(`${from}>${to}`)!;
        const result = await caught(asUser((tx) => tx.tasks.transition(id, moveTo(to))));
        if (TASK_TRANSITIONS[from].includes(to)) {
          expect(result, `${from} -> ${to}`).toBeUndefined();
          expect((await asUser((tx) => tx.tasks.get(id))).status, `${from} -> ${to}`).toBe(to);
          allowed++;
        } else {
          expect(result, `${from} -> ${to}`).toBeInstanceOf(ConflictError);
          expect(result, `${from} -> ${to}`).toMatchObject({ code: 'invalid_transition', entity: 'task' });
          expect((result as Error).message, `${from} -> ${to}`).toContain(`from ${from} to ${to}`);
          refused.push([from, to, id]);
        }
      }
      expect(allowed).toBe(Object.values(TASK_TRANSITIONS).flat().length);
      expect(refused).toHaveLength(pairs.length - allowed);
      for (const [from, to, id] of refused) {
        const raw = await caught(
          asUser((tx) =>
            tx.query(
              `UPDATE tasks SET status = $2, blocked_reason = CASE WHEN $2 = 'blocked' THEN 'raw' END WHERE id = $1`,
              [id, to],
            ),
          ),
        );
        expect(raw, `raw ${from} -> ${to}`).toMatchObject({ code: 'invalid_transition' });
        expect((await asUser((tx) => tx.tasks.get(id))).status, `raw ${from} -> ${to}`).toBe(from);
      }
      // Raw SQL cannot create a task past the start either.
      const raw = await caught(
        asUser((tx) =>
          tx.query(
            `INSERT INTO tasks (project_id, title, status, assignee_user_id) VALUES ($1, 'raw', 'completed', $2)`,
            [f.projectId, f.owner.id],
          ),
        ),
      );
      expect(raw).toMatchObject({ code: 'invalid_transition' });
    });

    it('refuses the same status again, but for a new phase or a new blocked reason', async () => {
      const task = await newTask({ status: 'assigned', assigneeAgentId: f.dev });
      const again = await caught(asUser((tx) => tx.tasks.transition(task.id, { status: 'assigned' })));
      expect(again).toMatchObject({ code: 'invalid_transition' });
      expect((again as Error).message).toContain('from assigned to assigned');
      const started = await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      expect(started.phase).toBe('agent_working');
      const phased = await asUser((tx) =>
        tx.tasks.transition(task.id, { status: 'in_progress', phase: 'completing' }),
      );
      expect(phased).toMatchObject({
        status: 'in_progress',
        phase: 'completing',
        startedAt: started.startedAt,
      });
      await asUser((tx) => tx.tasks.transition(task.id, { status: 'blocked', reason: 'first' }));
      const reblocked = await asUser((tx) =>
        tx.tasks.transition(task.id, { status: 'blocked', reason: 'second' }),
      );
      expect(reblocked).toMatchObject({ status: 'blocked', blockedReason: 'second', phase: null });
      for (const input of [
        { status: 'blocked' },
        { status: 'backlog', reason: 'x' },
        { status: 'backlog', phase: 'analyzing' },
        { status: 'completed', error: { x: 1 } },
        { status: 'done' },
      ]) {
        const error = await caught(
          asUser((tx) => tx.tasks.transition(task.id, input as TransitionTaskInput)),
        );
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      }
    });

    it('keeps started_at, completed_at and retry_count the database’s', async () => {
      const task = await newTask({ status: 'assigned', assigneeAgentId: f.dev, maxRetries: 2 });
      const started = await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      expect(started.startedAt).toBeInstanceOf(Date);
      await asUser((tx) => tx.tasks.transition(task.id, { status: 'blocked', reason: 'CI down' }));
      const resumed = await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      // The first start stays.
      expect(resumed.startedAt).toEqual(started.startedAt);
      const done = await asUser((tx) =>
        tx.tasks.transition(task.id, { status: 'completed', result: { pr: 42 } }),
      );
      expect(done).toMatchObject({ status: 'completed', result: { pr: 42 }, retryCount: 0 });
      expect(done.completedAt).toBeInstanceOf(Date);

      // Raw SQL may not set them: an insert starts clean, an update keeps them.
      const [inserted] = await asUser((tx) =>
        tx.query<{ id: string; started_at: unknown; completed_at: unknown; retry_count: number }>(
          `INSERT INTO tasks (project_id, title, started_at, completed_at, retry_count)
           VALUES ($1, 'raw', now() - interval '1 day', NULL, 2) RETURNING id, started_at, completed_at, retry_count`,
          [f.projectId],
        ),
      );
      expect(inserted).toMatchObject({ started_at: null, completed_at: null, retry_count: 0 });
      await asUser((tx) =>
        tx.query(
          `UPDATE tasks SET started_at = '2000-01-01', completed_at = NULL, retry_count = 1 WHERE id = $1`,
          [task.id],
        ),
      );
      const kept = await asUser((tx) => tx.tasks.get(task.id));
      expect(kept).toMatchObject({
        startedAt: started.startedAt,
        completedAt: done.completedAt,
        retryCount: 0,
      });
    });

    it('counts a retry from failed against max_retries (retries_exhausted), raw SQL included', async () => {
      const task = await newTask({ status: 'assigned', assigneeAgentId: f.dev, maxRetries: 1 });
      await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      const failed = await asUser((tx) =>
        tx.tasks.transition(task.id, { status: 'failed', error: { message: 'tests failed' } }),
      );
      expect(failed).toMatchObject({ status: 'failed', error: { message: 'tests failed' }, retryCount: 0 });
      const retried = await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      expect(retried).toMatchObject({ status: 'in_progress', retryCount: 1, error: null });
      await asUser((tx) => tx.tasks.transition(task.id, { status: 'failed', error: { message: 'again' } }));
      for (const to of ['backlog', 'assigned', 'in_progress'] as const) {
        const error = await caught(asUser((tx) => tx.tasks.transition(task.id, { status: to })));
        expect(error, to).toBeInstanceOf(ConflictError);
        expect(error, to).toMatchObject({ code: 'retries_exhausted', entity: 'task' });
      }
      const raw = await caught(
        asUser((tx) => tx.query(`UPDATE tasks SET status = 'backlog' WHERE id = $1`, [task.id])),
      );
      expect(raw).toMatchObject({ code: 'retries_exhausted' });
      // Nor may raw SQL lower max_retries under the retries used, or reset the count.
      const lowered = await caught(
        asUser((tx) => tx.query('UPDATE tasks SET max_retries = 0 WHERE id = $1', [task.id])),
      );
      expect(lowered).toBeInstanceOf(ValidationError);
      await asUser((tx) => tx.query('UPDATE tasks SET retry_count = 0 WHERE id = $1', [task.id]));
      expect((await asUser((tx) => tx.tasks.get(task.id))).retryCount).toBe(1);
      // Raising max_retries allows another retry; cancelling is always possible.
      await asUser((tx) => tx.tasks.update(task.id, { maxRetries: 2 }));
      expect((await asUser((tx) => tx.tasks.transition(task.id, { status: 'backlog' }))).retryCount).toBe(2);
      expect((await asUser((tx) => tx.tasks.transition(task.id, { status: 'cancelled' }))).status).toBe(
        'cancelled',
      );
    });
  });

  describe('assignment', () => {
    it('assigns to an agent or a member, never both, and unassigns back to the backlog', async () => {
      const task = await newTask();
      const toAgent = await asUser((tx) => tx.tasks.assign(task.id, { agentId: f.dev }));
      expect(toAgent).toMatchObject({ status: 'assigned', assigneeAgentId: f.dev, assigneeUserId: null });
      const toUser = await asUser((tx) => tx.tasks.assign(task.id, { userId: f.owner.id }));
      expect(toUser).toMatchObject({ status: 'assigned', assigneeAgentId: null, assigneeUserId: f.owner.id });
      const both = await caught(
        asUser((tx) => tx.tasks.assign(task.id, { agentId: f.dev, userId: f.owner.id } as never)),
      );
      expect(both).toBeInstanceOf(ValidationError);
      const raw = await caught(
        asUser((tx) => tx.query('UPDATE tasks SET assignee_agent_id = $2 WHERE id = $1', [task.id, f.dev])),
      );
      expect(raw).toBeInstanceOf(ValidationError);
      expect((await asUser((tx) => tx.tasks.get(task.id))).assigneeAgentId).toBeNull();
      await asUser((tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      const unassigned = await asUser((tx) => tx.tasks.assign(task.id, null));
      expect(unassigned).toMatchObject({ status: 'backlog', assigneeAgentId: null, assigneeUserId: null });
      // A member of another tenant, or no member at all, is not found.
      const stranger = await caught(asUser((tx) => tx.tasks.assign(task.id, { userId: other.owner.id })));
      expect(stranger).toBeInstanceOf(NotFoundError);
    });

    it('keeps the assignee of a completed or cancelled task, raw SQL included', async () => {
      const done = await newTask();
      await asUser(async (tx) => {
        await tx.tasks.assign(done.id, { agentId: f.dev });
        await tx.tasks.transition(done.id, { status: 'in_progress' });
        await tx.tasks.transition(done.id, { status: 'completed' });
      });
      const cancelled = await newTask();
      await asUser((tx) => tx.tasks.transition(cancelled.id, { status: 'cancelled' }));
      for (const [task, to] of [
        [done, { userId: f.owner.id }],
        [done, null],
        [cancelled, { agentId: f.dev }],
      ] as const) {
        const error = await caught(asUser((tx) => tx.tasks.assign(task.id, to)));
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ code: 'invalid_transition' });
      }
      const raw = await caught(
        asUser((tx) => tx.query('UPDATE tasks SET assignee_agent_id = NULL WHERE id = $1', [done.id])),
      );
      expect(raw).toBeInstanceOf(ConflictError);
      expect((await asUser((tx) => tx.tasks.get(done.id))).assigneeAgentId).toBe(f.dev);
    });

    it('never gives P0 work to an agent on probation, by assignment or by raising the priority', async () => {
      const probation = await agentWithStatus('probation');
      const p0 = await newTask({ priority: 'P0' });
      const assigned = await caught(asUser((tx) => tx.tasks.assign(p0.id, { agentId: probation })));
      expect(assigned).toBeInstanceOf(ConflictError);
      expect(assigned).toMatchObject({ code: 'agent_on_probation', entity: 'task' });
      const created = await caught(
        newTask({ priority: 'P0', status: 'assigned', assigneeAgentId: probation }),
      );
      expect(created).toMatchObject({ code: 'agent_on_probation' });
      const p2 = await asUser((tx) =>
        tx.tasks.create({
          projectId: f.projectId,
          title: 'minor',
          status: 'assigned',
          assigneeAgentId: probation,
        }),
      );
      const raised = await caught(asUser((tx) => tx.tasks.update(p2.id, { priority: 'P0' })));
      expect(raised).toMatchObject({ code: 'agent_on_probation' });
      const rawRaise = await caught(
        asUser((tx) => tx.query(`UPDATE tasks SET priority = 'P0' WHERE id = $1`, [p2.id])),
      );
      expect(rawRaise).toMatchObject({ code: 'agent_on_probation' });
      expect((await asUser((tx) => tx.tasks.get(p2.id))).priority).toBe('P2');
      expect((await asUser((tx) => tx.tasks.update(p2.id, { priority: 'P1' }))).priority).toBe('P1');
    });

    it('gives terminated and inactive agents nothing, and a project agent only work of its project', async () => {
      for (const status of ['terminated', 'inactive'] as const) {
        const agent = await agentWithStatus(status);
        const task = await newTask();
        const error = await caught(asUser((tx) => tx.tasks.assign(task.id, { agentId: agent })));
        expect(error, status).toBeInstanceOf(ConflictError);
        expect(error, status).toMatchObject({ code: 'agent_unavailable' });
        const created = await caught(newTask({ status: 'assigned', assigneeAgentId: agent }));
        expect(created, status).toMatchObject({ code: 'agent_unavailable' });
        const raw = await caught(
          asUser((tx) => tx.query('UPDATE tasks SET assignee_agent_id = $2 WHERE id = $1', [task.id, agent])),
        );
        expect(raw, status).toMatchObject({ code: 'agent_unavailable' });
      }
      // f.dev works in f.projectId only; an organization agent anywhere.
      const elsewhere = await asUser((tx) =>
        tx.tasks.create({ projectId: f.otherProjectId, title: 'API work' }),
      );
      const wrong = await caught(asUser((tx) => tx.tasks.assign(elsewhere.id, { agentId: f.dev })));
      expect(wrong).toBeInstanceOf(ValidationError);
      expect((await asUser((tx) => tx.tasks.assign(elsewhere.id, { agentId: f.lead }))).assigneeAgentId).toBe(
        f.lead,
      );
    });
  });

  describe('the timeline and work sessions', () => {
    it('writes task_assigned, github_issue_assigned, task_blocked and task_completed in the same transaction', async () => {
      const task = await newTask({
        title: 'Fix the crash',
        githubRepository: 'acme/web',
        githubIssueId: randomInt(1, 2 ** 40),
        githubIssueNumber: randomInt(1, 2 ** 30),
      });
      await asUser((tx) => tx.tasks.update(task.id, { title: `issue of ${task.id}` }));
      // By a member: the task's agent is the events' author.
      await asUser((tx) => tx.tasks.assign(task.id, { agentId: f.dev }));
      // By the agent itself.
      await asAgent(f.dev, (tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      await asAgent(f.dev, (tx) => tx.tasks.transition(task.id, { status: 'blocked', reason: 'no keys' }));
      await asAgent(f.dev, (tx) => tx.tasks.transition(task.id, { status: 'in_progress' }));
      await asAgent(f.dev, (tx) => tx.tasks.transition(task.id, { status: 'completed' }));
      const timeline = await eventsOfTask(h, task.id);
      expect(timeline.map((e) => e.type)).toEqual([
        'task_assigned',
        'github_issue_assigned',
        'task_blocked',
        'task_completed',
      ]);
      expect(timeline.every((e) => e.author_id === f.dev && e.mentions.includes(f.dev))).toBe(true);
      expect(timeline[0]!.payload).toMatchObject({ taskId: task.id, priority: 'P2', assigneeId: f.dev });
      expect(timeline[1]!.payload).toMatchObject({ repository: 'acme/web', number: task.githubIssueNumber });
      expect(timeline[2]!.payload).toEqual({ taskId: task.id, reason: 'no keys' });
      expect(timeline[3]!.payload).toMatchObject({ taskId: task.id, durationMinutes: 0 });

      // Rolled back with the transaction that made them.
      const rolledBack = await newTask();
      const failure = await caught(
        asUser(async (tx) => {
          await tx.tasks.assign(rolledBack.id, { agentId: f.lead });
          await tx.tasks.transition(rolledBack.id, { status: 'in_progress' });
          throw new Error('abort');
        }),
      );
      expect((failure as Error).message).toBe('abort');
      expect(await eventsOfTask(h, rolledBack.id)).toEqual([]);
      expect(await ownerCount(h, 'activity_feed WHERE task_id = $1', [rolledBack.id])).toBe(1);
      expect((await asUser((tx) => tx.tasks.get(rolledBack.id))).status).toBe('backlog');
    });

    it('records the tasks an agent touches in its open work session', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      const mine = await newTask({ status: 'assigned', assigneeAgentId: agent });
      // A member's change is not the agent's work.
      expect((await asUser((tx) => tx.workSessions.get(session.id))).tasksWorkedOn).toEqual([]);
      await asAgent(agent, (tx) => tx.tasks.transition(mine.id, { status: 'in_progress' }));
      await asAgent(agent, (tx) =>
        tx.tasks.transition(mine.id, { status: 'in_progress', phase: 'completing' }),
      );
      const created = await asAgent(agent, (tx) =>
        tx.tasks.create({ projectId: f.projectId, title: 'follow-up' }),
      );
      const recorded = await asUser((tx) => tx.workSessions.get(session.id));
      expect(recorded.tasksWorkedOn).toEqual([mine.id, created.id]);
      const stopped = await asAgent(agent, (tx) => tx.workSessions.stop(session.id));
      // Stopped, the session is frozen: the agent's later work is not added to it.
      await asAgent(agent, (tx) => tx.tasks.transition(mine.id, { status: 'completed' }));
      expect(await asUser((tx) => tx.workSessions.get(session.id))).toEqual(stopped);
    });

    it('hands a starting session the tasks assigned to its agent since its previous session stopped', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const before = await newTask({
        title: 'assigned before any session',
        status: 'assigned',
        assigneeAgentId: agent,
      });
      const first = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      expect(first.updates.tasks.map((t) => t.id)).toEqual([before.id]);
      await asAgent(agent, (tx) => tx.workSessions.stop(first.session.id));

      const news = await newTask({ title: 'new work', priority: 'P1' });
      await asUser((tx) => tx.tasks.assign(news.id, { agentId: agent }));
      const taken = await newTask({ title: 'assigned then taken away' });
      await asUser((tx) => tx.tasks.assign(taken.id, { agentId: agent }));
      await asUser((tx) => tx.tasks.assign(taken.id, { agentId: f.lead }));
      const gone = await newTask({
        title: 'assigned then deleted',
        status: 'assigned',
        assigneeAgentId: agent,
      });
      await asUser((tx) => tx.tasks.delete(gone.id));
      await newTask({ title: 'not its own', status: 'assigned', assigneeAgentId: f.lead });

      const next = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      expect(next.updates.tasks.map((t) => t.id)).toEqual([news.id]);
      const [start] = await h.asOwner((c) =>
        c.query<{ payload: { pulledUpdates: { tasks: number } } }>(
          `SELECT payload FROM events WHERE session_id = $1 AND type = 'session_start'`,
          [next.session.id],
        ),
      );
      expect(start!.payload.pulledUpdates.tasks).toBe(1);
      await asAgent(agent, (tx) => tx.workSessions.stop(next.session.id));
    });
  });

  describe('GitHub import', () => {
    it('imports the same issue twice as one task, updated', async () => {
      const issueId = randomInt(1, 2 ** 47);
      const issue = {
        projectId: f.projectId,
        repository: 'acme/web',
        issueId,
        issueNumber: randomInt(1, 2 ** 30),
        title: 'Crash on login',
        body: 'Steps: …',
        labels: ['bug', 'p1'],
        url: 'https://github.com/acme/web/issues/1',
      };
      const first = await asUser((tx) => tx.tasks.importGithubIssue(issue));
      expect(first.created).toBe(true);
      expect(first.task).toMatchObject({
        title: 'Crash on login',
        description: 'Steps: …',
        type: 'bug',
        status: 'backlog',
        githubIssueId: issueId,
        githubRepository: 'acme/web',
        metadata: { github: { labels: ['bug', 'p1'], url: issue.url } },
      });
      await asUser((tx) =>
        tx.tasks.update(first.task.id, { metadata: { ...first.task.metadata, note: 'kept' } }),
      );
      const second = await asUser((tx) =>
        tx.tasks.importGithubIssue({
          ...issue,
          title: 'Crash on login (Safari)',
          body: null,
          labels: ['bug'],
        }),
      );
      expect(second.created).toBe(false);
      expect(second.task).toMatchObject({
        id: first.task.id,
        title: 'Crash on login (Safari)',
        description: null,
        metadata: { note: 'kept', github: { labels: ['bug'] } },
      });
      expect(await ownerCount(h, 'tasks WHERE github_issue_id = $1', [issueId])).toBe(1);
      // Another project may hold the same issue.
      const elsewhere = await asUser((tx) =>
        tx.tasks.importGithubIssue({ ...issue, projectId: f.otherProjectId }),
      );
      expect(elsewhere.created).toBe(true);
      // Deleted, the next import makes a new task.
      await asUser((tx) => tx.tasks.delete(first.task.id));
      const third = await asUser((tx) => tx.tasks.importGithubIssue(issue));
      expect(third).toMatchObject({ created: true });
      expect(third.task.id).not.toBe(first.task.id);
      // Bad input writes nothing.
      for (const input of [
        { ...issue, repository: 'not a repo' },
        { ...issue, issueId: 0 },
        { ...issue, title: '' },
        { ...issue, extra: 1 },
      ]) {
        const error = await caught(asUser((tx) => tx.tasks.importGithubIssue(input as never)));
        expect(error).toBeInstanceOf(ValidationError);
      }
      expect(await ownerCount(h, 'tasks WHERE github_issue_id = $1', [issueId])).toBe(3);
    });

    it.runIf(h.kind === 'postgres')('imports the same issue concurrently as one task (server)', async () => {
      const issue = {
        projectId: f.projectId,
        repository: 'acme/web',
        issueId: randomInt(1, 2 ** 47),
        issueNumber: randomInt(1, 2 ** 30),
        title: 'Race',
      };
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          asUser((tx) => tx.tasks.importGithubIssue({ ...issue, title: `Race ${i}` })),
        ),
      );
      expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await ownerCount(h, 'tasks WHERE github_issue_id = $1', [issue.issueId])).toBe(1);
    });
  });

  describe('delete and purge', () => {
    it('hides a deleted task and freezes it, raw SQL included', async () => {
      const task = await newTask({ status: 'assigned', assigneeAgentId: f.lead });
      await asUser((tx) => tx.tasks.delete(task.id));
      const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
        ['get', (tx) => tx.tasks.get(task.id)],
        ['update', (tx) => tx.tasks.update(task.id, { title: 'zombie' })],
        ['assign', (tx) => tx.tasks.assign(task.id, { agentId: f.reviewer })],
        ['unassign', (tx) => tx.tasks.unassign(task.id)],
        ['transition', (tx) => tx.tasks.transition(task.id, { status: 'in_progress' })],
        ['delete', (tx) => tx.tasks.delete(task.id)],
        ['raw update', (tx) => tx.query(`UPDATE tasks SET title = 'zombie' WHERE id = $1`, [task.id])],
        ['raw undelete', (tx) => tx.query('UPDATE tasks SET deleted_at = NULL WHERE id = $1', [task.id])],
      ];
      for (const [label, attempt] of attempts) {
        const error = await caught(asUser(attempt));
        expect(error, label).toBeInstanceOf(NotFoundError);
      }
      const listed = await asUser((tx) => tx.tasks.list({ projectId: f.projectId, limit: 1000 }));
      expect(listed.items.map((t) => t.id)).not.toContain(task.id);
      const [row] = await h.asOwner((c) =>
        c.query<{ title: string; deleted: boolean }>(
          'SELECT title, deleted_at IS NOT NULL AS deleted FROM tasks WHERE id = $1',
          [task.id],
        ),
      );
      expect(row).toEqual({ title: 'Build the login form', deleted: true });
      // The app role holds no DELETE: tenant work deletes softly.
      const hard = await caught(asUser((tx) => tx.query('DELETE FROM tasks WHERE id = $1', [task.id])));
      expect(hard).toBeInstanceOf(ForbiddenError);
    });

    it('deletes a project’s live tasks with the project, in the same transaction, raw SQL included', async () => {
      for (const raw of [false, true]) {
        const project = await asUser((tx) =>
          tx.projects.create({ slug: `gone-${randomInt(1e9)}`, name: 'Gone' }),
        );
        const tasks = await asUser(async (tx) => [
          await tx.tasks.create({ projectId: project.id, title: 'one' }),
          await tx.tasks.create({
            projectId: project.id,
            title: 'two',
            status: 'assigned',
            assigneeAgentId: f.lead,
          }),
        ]);
        await asUser(async (tx) => {
          if (raw)
            await tx.query(`UPDATE projects SET status = 'deleted', deleted_at = now() WHERE id = $1`, [
              project.id,
            ]);
          else await tx.projects.delete(project.id);
        });
        for (const task of tasks) {
          await expect(asUser((tx) => tx.tasks.get(task.id))).rejects.toBeInstanceOf(NotFoundError);
        }
        expect(await ownerCount(h, 'tasks WHERE project_id = $1 AND deleted_at IS NULL', [project.id])).toBe(
          0,
        );
        const [stamps] = await h.asOwner((c) =>
          c.query<{ same: boolean }>(
            `SELECT bool_and(t.deleted_at = p.deleted_at) AS same FROM tasks t JOIN projects p ON p.id = t.project_id
              WHERE p.id = $1`,
            [project.id],
          ),
        );
        expect(stamps!.same).toBe(true);
        // No new task in a deleted project.
        const late = await caught(asUser((tx) => tx.tasks.create({ projectId: project.id, title: 'late' })));
        expect(late).toBeInstanceOf(NotFoundError);
      }
      // A rolled-back project delete leaves its tasks alive.
      const project = await asUser((tx) =>
        tx.projects.create({ slug: `kept-${randomInt(1e9)}`, name: 'Kept' }),
      );
      const task = await asUser((tx) => tx.tasks.create({ projectId: project.id, title: 'alive' }));
      await caught(
        asUser(async (tx) => {
          await tx.projects.delete(project.id);
          throw new Error('abort');
        }),
      );
      expect((await asUser((tx) => tx.tasks.get(task.id))).deletedAt).toBeNull();
    });

    it('purges soft-deleted tasks and projects older than N days, for the service role only, audited', async () => {
      const old = await newTask({ title: 'old and deleted' });
      const recent = await newTask({ title: 'recently deleted' });
      const alive = await newTask({ title: 'alive' });
      const project = await asUser((tx) =>
        tx.projects.create({ slug: `old-${randomInt(1e9)}`, name: 'Old' }),
      );
      const ofProject = await asUser((tx) =>
        tx.tasks.create({ projectId: project.id, title: 'of old project' }),
      );
      await h.asOwner(async (c) => {
        // Deleted 40 days ago (a live row may be stamped; a deleted one is frozen).
        await c.query(`UPDATE tasks SET deleted_at = now() - interval '40 days' WHERE id = $1`, [old.id]);
        await c.query(
          `UPDATE projects SET status = 'deleted', deleted_at = now() - interval '40 days' WHERE id = $1`,
          [project.id],
        );
      });
      await asUser((tx) => tx.tasks.delete(recent.id));

      const denied = await caught(asUser((tx) => tx.query('SELECT * FROM agentflow.purge_deleted_work(0)')));
      expect(denied).toBeInstanceOf(ForbiddenError);
      const invalid = await caught(
        h.store.asService({ actor: 'janitor' }, (svc) => svc.tasks.purgeDeleted({ olderThanDays: -1 })),
      );
      expect(invalid).toBeInstanceOf(ValidationError);

      const report = await h.store.asService({ actor: 'janitor' }, (svc) =>
        svc.tasks.purgeDeleted({ olderThanDays: 30 }),
      );
      expect(report.results).toEqual(
        expect.arrayContaining([
          { tenantId: f.tenant.id, table: 'tasks', purged: 2 },
          { tenantId: f.tenant.id, table: 'projects', purged: 1 },
        ]),
      );
      expect(await ownerCount(h, 'tasks WHERE id = ANY($1)', [[old.id, ofProject.id]])).toBe(0);
      expect(await ownerCount(h, 'projects WHERE id = $1', [project.id])).toBe(0);
      expect(await ownerCount(h, 'activity_feed WHERE task_id = ANY($1)', [[old.id, ofProject.id]])).toBe(0);
      expect(await ownerCount(h, 'tasks WHERE id = ANY($1)', [[recent.id, alive.id]])).toBe(2);
      const audit = await h.asOwner((c) =>
        c.query<{ table_name: string; actor_type: string; actor_id: string; old_values: unknown }>(
          `SELECT table_name, actor_type, actor_id, old_values FROM audit_logs
            WHERE tenant_id = $1 AND row_id IS NULL AND old_values ? 'purge' ORDER BY table_name`,
          [f.tenant.id],
        ),
      );
      expect(audit).toEqual([
        {
          table_name: 'projects',
          actor_type: 'service',
          actor_id: 'janitor',
          old_values: { purge: { purged: 1, cutoff: expect.any(String), olderThanDays: 30 } },
        },
        {
          table_name: 'tasks',
          actor_type: 'service',
          actor_id: 'janitor',
          old_values: { purge: { purged: 2, cutoff: expect.any(String), olderThanDays: 30 } },
        },
      ]);
      // Each removed task left its own audit row too.
      expect(
        await ownerCount(h, `audit_logs WHERE table_name = 'tasks' AND action = 'delete' AND row_id = $1`, [
          old.id,
        ]),
      ).toBe(1);
      // Nothing more to purge.
      const again = await h.store.asService({ actor: 'janitor' }, (svc) =>
        svc.tasks.purgeDeleted({ olderThanDays: 30 }),
      );
      expect(again.results.filter((r) => r.tenantId === f.tenant.id)).toEqual([]);
    });
  });
});
