import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Approval,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { type ApprovalFixture, createApprovalTenant } from './approval-fixtures.ts';

describeEachEngine('approvals', (h) => {
  let f: ApprovalFixture;
  let other: ApprovalFixture;
  const asDev = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.asAgent(f.dev), work);
  const asUser = <T>(userId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asUser(userId), work);
  const artifactStatuses = async (ids: string[]) =>
    Object.fromEntries(
      (
        await h.asOwner((c) =>
          c.query<{ id: string; approval_status: string }>(
            'SELECT id, approval_status FROM artifacts WHERE id = ANY ($1::uuid[])',
            [ids],
          ),
        )
      ).map((row) => [row.id, row.approval_status]),
    );
  const approvalsOf = (taskId: string) => ownerCount(h, 'approvals WHERE task_id = $1', [taskId]);
  const feedKinds = async (taskId: string) =>
    (
      await h.asOwner((c) =>
        c.query<{ kind: string }>(
          'SELECT kind FROM activity_feed WHERE task_id = $1 ORDER BY occurred_at, kind',
          [taskId],
        ),
      )
    ).map((row) => row.kind);

  /** A task in progress with two artifacts, and a pending approval by the dev agent covering the first. */
  async function awaitingApproval(options: { onApprove?: 'complete' | 'continue' } = {}) {
    const taskId = await f.inProgressTask();
    const [covered, uncovered] = await asDev(async (tx) => [
      (await tx.artifacts.create({ taskId, type: 'code', path: 'src/a.ts', content: 'a' })).id,
      (await tx.artifacts.create({ taskId, type: 'test_report', path: 'report.json', content: '{}' })).id,
    ]);
    const approval = await asDev((tx) =>
      tx.approvals.request({
        taskId,
        title: 'Merge the login form?',
        description: 'Two files changed',
        artifactIds: [covered!],
        resumeState: { step: 'merge', branch: 'feat/login', plan: ['open PR', 'merge'] },
        ...options,
      }),
    );
    return { taskId, covered: covered!, uncovered: uncovered!, approval };
  }

  beforeAll(async () => {
    f = await createApprovalTenant(h);
    other = await createApprovalTenant(h);
  });

  describe('request and decision', () => {
    it('puts the task in review with its artifacts pending, and an approval completes it', async () => {
      const { taskId, covered, uncovered, approval } = await awaitingApproval();
      expect(approval).toMatchObject({
        taskId,
        status: 'pending',
        title: 'Merge the login form?',
        artifactIds: [covered],
        resumeState: { step: 'merge', branch: 'feat/login', plan: ['open PR', 'merge'] },
        onApprove: 'complete',
        requestedByAgentId: f.dev,
        requestedByUserId: null,
        reason: null,
        decidedBy: null,
        decidedAt: null,
      });
      expect((await f.taskState(taskId)).status).toBe('in_review');
      expect(await artifactStatuses([covered, uncovered])).toEqual({
        [covered]: 'pending',
        [uncovered]: 'none',
      });
      // After a restart, the agent finds what it needs on the approval.
      expect(await asDev((tx) => tx.approvals.get(approval.id))).toEqual(approval);

      const decided = await asUser(f.manager, (tx) =>
        tx.approvals.decide(approval.id, { decision: 'approved' }),
      );
      expect(decided).toMatchObject({ status: 'approved', decidedBy: f.manager, reason: null });
      expect(decided.decidedAt).toBeInstanceOf(Date);
      const task = await f.taskState(taskId);
      expect(task.status).toBe('completed');
      expect(task.metadata).toMatchObject({ review: { approvalId: approval.id, decision: 'approved' } });
      expect(await artifactStatuses([covered, uncovered])).toEqual({
        [covered]: 'approved',
        [uncovered]: 'none',
      });
      expect(await feedKinds(taskId)).toEqual(
        expect.arrayContaining(['artifact_added', 'approval_requested', 'approval_approved']),
      );
      // Audited: the request and the decision, each naming its actor.
      const audit = await h.asOwner((c) =>
        c.query<{ action: string; actor_type: string; actor_id: string }>(
          `SELECT action, actor_type, actor_id FROM audit_logs
            WHERE table_name = 'approvals' AND row_id = $1 ORDER BY occurred_at, id`,
          [approval.id],
        ),
      );
      expect(audit).toEqual([
        { action: 'insert', actor_type: 'agent', actor_id: f.dev },
        { action: 'update', actor_type: 'user', actor_id: f.manager },
      ]);
    });

    it('a rejection sends the task back to work with the reason; a new request may follow; continue keeps it in progress', async () => {
      const { taskId, covered, approval } = await awaitingApproval({ onApprove: 'continue' });
      const rejected = await asUser(f.admin, (tx) =>
        tx.approvals.decide(approval.id, { decision: 'rejected', reason: 'The tests are missing' }),
      );
      expect(rejected).toMatchObject({
        status: 'rejected',
        reason: 'The tests are missing',
        decidedBy: f.admin,
      });
      const task = await f.taskState(taskId);
      expect(task.status).toBe('in_progress');
      expect(task.metadata).toMatchObject({
        review: { approvalId: approval.id, decision: 'rejected', reason: 'The tests are missing' },
      });
      expect(await artifactStatuses([covered])).toEqual({ [covered]: 'rejected' });
      expect(await feedKinds(taskId)).toContain('approval_rejected');

      const again = await asDev((tx) =>
        tx.approvals.request({
          taskId,
          title: 'Plan, with tests',
          artifactIds: [covered],
          onApprove: 'continue',
        }),
      );
      expect(await artifactStatuses([covered])).toEqual({ [covered]: 'pending' });
      await asUser(f.owner.id, (tx) =>
        tx.approvals.decide(again.id, { decision: 'approved', reason: 'Go on' }),
      );
      expect((await f.taskState(taskId)).status).toBe('in_progress');
      expect(await artifactStatuses([covered])).toEqual({ [covered]: 'approved' });
    });
  });

  describe('who decides', () => {
    it('refuses agents, plain members and the service role, by repository and raw SQL, and changes nothing', async () => {
      const { taskId, covered, approval } = await awaitingApproval();
      const refusals: Array<[string, () => Promise<unknown>]> = [
        [
          'agent, repository',
          () => asDev((tx) => tx.approvals.decide(approval.id, { decision: 'approved' })),
        ],
        [
          'agent, raw SQL',
          () =>
            asDev((tx) =>
              tx.query(`UPDATE approvals SET status = 'approved', decided_by = $2 WHERE id = $1`, [
                approval.id,
                f.owner.id,
              ]),
            ),
        ],
        [
          'member, repository',
          () => asUser(f.member, (tx) => tx.approvals.decide(approval.id, { decision: 'approved' })),
        ],
        [
          'member, raw SQL',
          () =>
            asUser(f.member, (tx) =>
              tx.query(`UPDATE approvals SET status = 'approved' WHERE id = $1`, [approval.id]),
            ),
        ],
        [
          'service role, raw SQL',
          () =>
            h.store.asService({ actor: 'ops' }, (svc) =>
              svc.query(`UPDATE approvals SET status = 'approved', decided_by = $2 WHERE id = $1`, [
                approval.id,
                f.owner.id,
              ]),
            ),
        ],
        [
          'owner of another tenant',
          () =>
            h.store.withTenant(other.context, (tx) =>
              tx.query(`UPDATE approvals SET status = 'approved' WHERE tenant_id = $1 RETURNING id`, [
                f.tenant.id,
              ]),
            ),
        ],
      ];
      for (const [label, attempt] of refusals) {
        const error = await caught(attempt());
        if (label === 'owner of another tenant') {
          // Row-level security: it reaches no row at all.
          expect(error, label).toBeUndefined();
          continue;
        }
        expect(error, label).toBeInstanceOf(ForbiddenError);
        expect((error as ForbiddenError).code, label).toBe('approver_required');
      }
      expect(await asDev((tx) => tx.approvals.get(approval.id))).toEqual(approval);
      expect((await f.taskState(taskId)).status).toBe('in_review');
      expect(await artifactStatuses([covered])).toEqual({ [covered]: 'pending' });
    });

    it('makes a decision final: deciding twice or changing a decided approval is refused', async () => {
      const { approval } = await awaitingApproval();
      const decided = await asUser(f.owner.id, (tx) =>
        tx.approvals.decide(approval.id, { decision: 'approved' }),
      );
      const twice = await caught(
        asUser(f.admin, (tx) =>
          tx.approvals.decide(approval.id, { decision: 'rejected', reason: 'Changed my mind' }),
        ),
      );
      expect(twice).toBeInstanceOf(ConflictError);
      expect((twice as ConflictError).code).toBe('approval_decided');
      for (const change of [
        `UPDATE approvals SET reason = 'rewritten' WHERE id = $1`,
        `UPDATE approvals SET status = 'pending', decided_at = NULL, decided_by = NULL WHERE id = $1`,
        `UPDATE approvals SET resume_state = '{}' WHERE id = $1`,
      ]) {
        const error = await caught(asUser(f.owner.id, (tx) => tx.query(change, [approval.id])));
        expect(error, change).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('approval_decided');
      }
      const deleted = await caught(
        asUser(f.owner.id, (tx) => tx.query('DELETE FROM approvals WHERE id = $1', [approval.id])),
      );
      expect(deleted).toBeInstanceOf(ForbiddenError);
      expect(await asDev((tx) => tx.approvals.get(approval.id))).toEqual(decided);
    });

    it('never changes a pending request except by a decision', async () => {
      const { approval } = await awaitingApproval();
      for (const change of [
        `UPDATE approvals SET title = 'Something else' WHERE id = $1`,
        `UPDATE approvals SET artifact_ids = '{}' WHERE id = $1`,
        `UPDATE approvals SET reason = 'just a note' WHERE id = $1`,
      ]) {
        const error = await caught(asUser(f.owner.id, (tx) => tx.query(change, [approval.id])));
        expect(error, change).toBeInstanceOf(ValidationError);
      }
      expect(await asDev((tx) => tx.approvals.get(approval.id))).toEqual(approval);
    });
  });

  describe('request rules', () => {
    it('refuses a second pending approval of a task', async () => {
      const { taskId, approval } = await awaitingApproval();
      const second = await caught(asDev((tx) => tx.approvals.request({ taskId, title: 'Again?' })));
      expect(second).toBeInstanceOf(ConflictError);
      expect((second as ConflictError).code).toBe('approval_pending');
      expect((second as Error).message).toContain(approval.id);
      expect(await approvalsOf(taskId)).toBe(1);
    });

    it('holds a task awaiting a decision in review: no transition moves it, raw SQL included', async () => {
      const { taskId } = await awaitingApproval();
      for (const status of ['completed', 'in_progress', 'cancelled']) {
        const error = await caught(
          asUser(f.owner.id, (tx) =>
            tx.query('UPDATE tasks SET status = $2 WHERE id = $1', [taskId, status]),
          ),
        );
        expect(error, status).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('approval_pending');
      }
      expect((await f.taskState(taskId)).status).toBe('in_review');
    });

    it('refuses approval of a task not in progress, and writes nothing', async () => {
      const backlog = await f.backlogTask();
      const error = await caught(asDev((tx) => tx.approvals.request({ taskId: backlog, title: 'Approve?' })));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('invalid_transition');
      expect(await approvalsOf(backlog)).toBe(0);
      expect((await f.taskState(backlog)).status).toBe('backlog');
      // Unknown, or another tenant's: not found.
      const theirs = await other.inProgressTask();
      for (const taskId of [theirs, randomUUID()]) {
        const missing = await caught(asDev((tx) => tx.approvals.request({ taskId, title: 'Approve?' })));
        expect(missing).toBeInstanceOf(NotFoundError);
      }
      expect(await approvalsOf(theirs)).toBe(0);
    });

    it('refuses an artifact of another task (or tenant), and writes nothing', async () => {
      const taskId = await f.inProgressTask();
      const otherTask = await f.inProgressTask('Another');
      const mine = await asDev((tx) => tx.artifacts.create({ taskId, type: 'code', path: 'mine.ts' }));
      const stray = await asDev((tx) =>
        tx.artifacts.create({ taskId: otherTask, type: 'code', path: 'stray.ts' }),
      );
      const theirTask = await other.inProgressTask();
      const theirs = await h.store.withTenant(other.asAgent(other.dev), (tx) =>
        tx.artifacts.create({ taskId: theirTask, type: 'code', path: 'theirs.ts' }),
      );
      for (const foreign of [stray.id, theirs.id, randomUUID()]) {
        const error = await caught(
          asDev((tx) => tx.approvals.request({ taskId, title: 'Approve?', artifactIds: [mine.id, foreign] })),
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).code).toBe('invalid_reference');
        expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['artifactIds']);
      }
      expect(await approvalsOf(taskId)).toBe(0);
      expect((await f.taskState(taskId)).status).toBe('in_progress');
      expect(await artifactStatuses([mine.id, stray.id])).toEqual({ [mine.id]: 'none', [stray.id]: 'none' });
    });

    it('refuses bad input with a ValidationError and writes nothing', async () => {
      const taskId = await f.inProgressTask();
      const requests: unknown[] = [
        { taskId, title: '' },
        { taskId, title: 'x'.repeat(501) },
        { taskId, title: 'ok', artifactIds: ['nope'] },
        { taskId, title: 'ok', artifactIds: [taskId, taskId] },
        { taskId, title: 'ok', resumeState: ['step'] },
        { taskId, title: 'ok', onApprove: 'merge' },
        { taskId, title: 'ok', status: 'approved' },
        { title: 'no task' },
      ];
      for (const input of requests) {
        const error = await caught(asDev((tx) => tx.approvals.request(input as never)));
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      }
      expect(await approvalsOf(taskId)).toBe(0);
      const { approval } = await awaitingApproval();
      const decisions: unknown[] = [
        { decision: 'maybe' },
        { decision: 'rejected' },
        { decision: 'rejected', reason: '   ' },
        { decision: 'approved', decidedBy: f.admin },
      ];
      for (const input of decisions) {
        const error = await caught(
          asUser(f.owner.id, (tx) => tx.approvals.decide(approval.id, input as never)),
        );
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      }
      await expect(
        asUser(f.owner.id, (tx) => tx.approvals.decide('nope', { decision: 'approved' })),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        asUser(f.owner.id, (tx) => tx.approvals.decide(randomUUID(), { decision: 'approved' })),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect((await asDev((tx) => tx.approvals.get(approval.id))).status).toBe('pending');
    });

    it('stamps the requester and a pending status itself, raw SQL included', async () => {
      const taskId = await f.inProgressTask();
      const [row] = await asDev((tx) =>
        tx.query<{ status: string; requested_by_agent_id: string; decided_by: string | null }>(
          `INSERT INTO approvals (task_id, title, status, requested_by_agent_id, decided_by, decided_at)
           VALUES ($1, 'Forged', 'approved', $2, $3, now())
           RETURNING status, requested_by_agent_id, decided_by`,
          [taskId, f.lead, f.owner.id],
        ),
      );
      expect(row).toEqual({ status: 'pending', requested_by_agent_id: f.dev, decided_by: null });
      expect((await f.taskState(taskId)).status).toBe('in_review');
    });
  });

  describe('concurrency', () => {
    it('of two requests or two decisions at once, exactly one passes (server)', async () => {
      if (h.kind !== 'postgres') return;
      const taskId = await f.inProgressTask();
      const requests = await Promise.allSettled(
        ['first', 'second'].map((title) => asDev((tx) => tx.approvals.request({ taskId, title }))),
      );
      expect(requests.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = requests.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(ConflictError);
      expect((refused.reason as ConflictError).code).toBe('approval_pending');
      expect(await approvalsOf(taskId)).toBe(1);
      const approval = (requests.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Approval>)
        .value;
      const decisions = await Promise.allSettled([
        asUser(f.owner.id, (tx) => tx.approvals.decide(approval.id, { decision: 'approved' })),
        asUser(f.admin, (tx) => tx.approvals.decide(approval.id, { decision: 'rejected', reason: 'No' })),
      ]);
      const passed = decisions.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Approval>[];
      expect(passed).toHaveLength(1);
      const lost = decisions.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as ConflictError).code).toBe('approval_decided');
      expect((await f.taskState(taskId)).status).toBe(
        passed[0]!.value.status === 'approved' ? 'completed' : 'in_progress',
      );
    });
  });

  describe('the inbox', () => {
    it('lists pending approvals per tenant and project, oldest first, page by page', async () => {
      const g = await createApprovalTenant(h);
      const asMember = <T>(work: (tx: TenantTx) => Promise<T>) =>
        h.store.withTenant(g.asUser(g.member), work);
      const requested: Approval[] = [];
      for (const title of ['one', 'two', 'three']) {
        const taskId = await g.inProgressTask(title);
        requested.push(
          await h.store.withTenant(g.asAgent(g.dev), (tx) => tx.approvals.request({ taskId, title })),
        );
      }
      await h.store.withTenant(g.context, (tx) =>
        tx.approvals.decide(requested[1]!.id, { decision: 'approved' }),
      );
      const pages = await allPages(1, (page) =>
        asMember((tx) => tx.approvals.list({ status: 'pending', ...page })),
      );
      expect(pages.flat().map((a) => a.id)).toEqual([requested[0]!.id, requested[2]!.id]);
      expect(
        (await asMember((tx) => tx.approvals.list({ status: 'pending', projectId: g.projectId }))).items,
      ).toHaveLength(2);
      expect(
        (await asMember((tx) => tx.approvals.list({ status: 'pending', projectId: g.otherProjectId }))).items,
      ).toEqual([]);
      expect(
        (await asMember((tx) => tx.approvals.list({ status: 'approved' }))).items.map((a) => a.id),
      ).toEqual([requested[1]!.id]);
      expect(
        (await asMember((tx) => tx.approvals.list({ taskId: requested[2]!.taskId }))).items.map((a) => a.id),
      ).toEqual([requested[2]!.id]);
      // Another tenant's inbox shows none of these.
      const theirs = await h.store.withTenant(other.context, (tx) => tx.approvals.list({ limit: 1000 }));
      expect(theirs.items.some((a) => requested.some((r) => r.id === a.id))).toBe(false);
      await expect(
        h.store.withTenant(other.context, (tx) => tx.approvals.get(requested[0]!.id)),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
