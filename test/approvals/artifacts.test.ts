import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACT_CONTENT_MAX_BYTES,
  ForbiddenError,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { type ApprovalFixture, createApprovalTenant } from './approval-fixtures.ts';

describeEachEngine('artifacts', (h) => {
  let f: ApprovalFixture;
  let other: ApprovalFixture;
  let taskId: string;
  const asOwnerUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asDev = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.asAgent(f.dev), work);
  const artifactsOf = (task: string) => ownerCount(h, 'artifacts WHERE task_id = $1', [task]);

  beforeAll(async () => {
    f = await createApprovalTenant(h);
    other = await createApprovalTenant(h);
    taskId = await f.inProgressTask();
  });

  describe('create, read, list', () => {
    it('stores an agent’s artifact as its own, counts the bytes, and writes a feed entry', async () => {
      const executionId = (await asDev((tx) => tx.taskExecutions.create({ taskId, status: 'running' }))).id;
      const content = 'export const é = 1;\n';
      const artifact = await asDev((tx) =>
        tx.artifacts.create({
          taskId,
          executionId,
          type: 'code',
          path: 'src/login.ts',
          content,
          contentType: 'text/typescript',
          metadata: { language: 'ts' },
        }),
      );
      expect(artifact).toMatchObject({
        taskId,
        executionId,
        type: 'code',
        path: 'src/login.ts',
        content,
        contentType: 'text/typescript',
        sizeBytes: Buffer.byteLength(content, 'utf8'),
        metadata: { language: 'ts' },
        approvalStatus: 'none',
        createdByAgentId: f.dev,
        createdByUserId: null,
      });
      expect(await asOwnerUser((tx) => tx.artifacts.get(artifact.id))).toEqual(artifact);
      const [entry] = await h.asOwner((c) =>
        c.query<{ kind: string; summary: string; project_id: string; actor_id: string; details: object }>(
          `SELECT kind, summary, project_id, actor_id, details FROM activity_feed WHERE details->>'id' = $1`,
          [artifact.id],
        ),
      );
      expect(entry).toMatchObject({
        kind: 'artifact_added',
        summary: 'src/login.ts',
        project_id: f.projectId,
        actor_id: f.dev,
        details: { type: 'code', task_id: taskId, execution_id: executionId },
      });
    });

    it('stores a human’s artifact held elsewhere with the size given', async () => {
      const artifact = await asOwnerUser((tx) =>
        tx.artifacts.create({
          taskId,
          type: 'design',
          path: 's3://designs/login.fig',
          contentType: 'application/octet-stream',
          sizeBytes: 5_000_000,
        }),
      );
      expect(artifact).toMatchObject({
        content: null,
        sizeBytes: 5_000_000,
        executionId: null,
        createdByUserId: f.owner.id,
        createdByAgentId: null,
      });
    });

    it('pages a task’s artifacts oldest first, and filters by execution and approval status', async () => {
      const task = await f.inProgressTask('Many artifacts');
      const execution = (await asDev((tx) => tx.taskExecutions.create({ taskId: task, status: 'running' })))
        .id;
      const made: string[] = [];
      // Three in one transaction share created_at: the id breaks the tie.
      await asDev(async (tx) => {
        for (const path of ['a.md', 'b.md', 'c.md'])
          made.push((await tx.artifacts.create({ taskId: task, type: 'document', path })).id);
      });
      made.push(
        (
          await asDev((tx) =>
            tx.artifacts.create({ taskId: task, executionId: execution, type: 'log', path: 'run.log' }),
          )
        ).id,
      );
      const pages = await allPages(1, (page) => asDev((tx) => tx.artifacts.list({ taskId: task, ...page })));
      expect(pages).toHaveLength(4);
      const listed = pages.flat().map((a) => a.id);
      expect(listed.slice(0, 3)).toEqual([...made.slice(0, 3)].sort());
      expect(listed[3]).toBe(made[3]);
      expect(
        (await asDev((tx) => tx.artifacts.list({ executionId: execution }))).items.map((a) => a.id),
      ).toEqual([made[3]]);
      expect(
        (await asDev((tx) => tx.artifacts.list({ taskId: task, approvalStatus: 'pending' }))).items,
      ).toEqual([]);
    });
  });

  describe('rules', () => {
    it('refuses a run of another task, or an unknown run', async () => {
      const elsewhere = await f.inProgressTask('Another task');
      const run = await asDev((tx) => tx.taskExecutions.create({ taskId: elsewhere, status: 'running' }));
      const before = await artifactsOf(taskId);
      const ofAnother = await caught(
        asDev((tx) => tx.artifacts.create({ taskId, executionId: run.id, type: 'log', path: 'x.log' })),
      );
      expect(ofAnother).toBeInstanceOf(ValidationError);
      const unknown = await caught(
        asDev((tx) => tx.artifacts.create({ taskId, executionId: randomUUID(), type: 'log', path: 'x.log' })),
      );
      expect(unknown).toBeInstanceOf(NotFoundError);
      expect(await artifactsOf(taskId)).toBe(before);
    });

    it('refuses bad input with a ValidationError and writes nothing', async () => {
      const before = await artifactsOf(taskId);
      const attempts: unknown[] = [
        { taskId, type: 'binary', path: 'x' },
        { taskId, type: 'code', path: '' },
        { taskId, type: 'code', path: 'a\u001b[31m.ts' },
        { taskId, type: 'code', path: 'x', content: 'x'.repeat(ARTIFACT_CONTENT_MAX_BYTES + 1) },
        { taskId, type: 'code', path: 'x', content: 'abc', sizeBytes: 4 },
        { taskId, type: 'code', path: 'x', contentType: 'Text/Plain' },
        { taskId, type: 'code', path: 'x', metadata: [] },
        { taskId, type: 'code', path: 'x', approvalStatus: 'approved' },
        { taskId: 'not-a-uuid', type: 'code', path: 'x' },
      ];
      for (const input of attempts) {
        const error = await caught(asDev((tx) => tx.artifacts.create(input as never)));
        expect(error, JSON.stringify(input).slice(0, 80)).toBeInstanceOf(ValidationError);
      }
      expect(await artifactsOf(taskId)).toBe(before);
    });

    it('refuses a task of another tenant, an unknown one and a deleted one as not found', async () => {
      const theirs = await other.inProgressTask();
      for (const task of [theirs, randomUUID()]) {
        const error = await caught(
          asDev((tx) => tx.artifacts.create({ taskId: task, type: 'code', path: 'x' })),
        );
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as NotFoundError).entity).toBe('task');
      }
      const deleted = await f.backlogTask('Deleted');
      await h.asOwner((c) => c.query('UPDATE tasks SET deleted_at = now() WHERE id = $1', [deleted]));
      const error = await caught(
        asDev((tx) => tx.artifacts.create({ taskId: deleted, type: 'code', path: 'x' })),
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect(await artifactsOf(theirs)).toBe(0);
      expect(await artifactsOf(deleted)).toBe(0);
      // Nor is another tenant's artifact visible.
      const theirArtifact = await h.store.withTenant(other.asAgent(other.dev), (tx) =>
        tx.artifacts.create({ taskId: theirs, type: 'code', path: 'theirs.ts' }),
      );
      await expect(asDev((tx) => tx.artifacts.get(theirArtifact.id))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('stamps the creator and the approval status itself, raw SQL included', async () => {
      const [row] = await asDev((tx) =>
        tx.query<{ created_by_agent_id: string; created_by_user_id: string | null; approval_status: string }>(
          `INSERT INTO artifacts (task_id, type, path, approval_status, created_by_agent_id, created_by_user_id)
           VALUES ($1, 'code', 'forged.ts', 'approved', $2, NULL)
           RETURNING created_by_agent_id, created_by_user_id, approval_status`,
          [taskId, f.lead],
        ),
      );
      expect(row).toEqual({ created_by_agent_id: f.dev, created_by_user_id: null, approval_status: 'none' });
    });

    it('never changes an artifact, and leaves its approval status to the approvals', async () => {
      const artifact = await asDev((tx) =>
        tx.artifacts.create({ taskId, type: 'diff', path: 'x.diff', content: '+a' }),
      );
      const content = await caught(
        asDev((tx) => tx.query(`UPDATE artifacts SET content = 'evil' WHERE id = $1`, [artifact.id])),
      );
      expect(content).toBeInstanceOf(ValidationError);
      for (const actor of [f.asAgent(f.dev), f.context]) {
        const status = await caught(
          h.store.withTenant(actor, (tx) =>
            tx.query(`UPDATE artifacts SET approval_status = 'approved' WHERE id = $1`, [artifact.id]),
          ),
        );
        expect(status).toBeInstanceOf(ForbiddenError);
      }
      const deleted = await caught(
        asDev((tx) => tx.query('DELETE FROM artifacts WHERE id = $1', [artifact.id])),
      );
      expect(deleted).toBeInstanceOf(ForbiddenError);
      expect(await asDev((tx) => tx.artifacts.get(artifact.id))).toEqual(artifact);
    });
  });
});
