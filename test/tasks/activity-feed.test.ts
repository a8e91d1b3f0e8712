import { beforeAll, expect, it } from 'vitest';
import { type ActivityEntry, ForbiddenError, type TenantTx, ValidationError } from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';

describeEachEngine('activity feed', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  async function allEntries(projectId: string, taskId?: string): Promise<ActivityEntry[]> {
    const entries: ActivityEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await asUser((tx) =>
        tx.activityFeed.list({
          projectId,
          limit: 2,
          ...(taskId ? { taskId } : {}),
          ...(cursor ? { cursor } : {}),
        }),
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      entries.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return entries;
  }

  it('is written by the database from what happens to tasks, as the actor, newest first', async () => {
    const task = await asUser((tx) => tx.tasks.create({ projectId: f.projectId, title: 'Write the docs' }));
    await asUser((tx) => tx.tasks.assign(task.id, { agentId: f.dev }));
    await h.store.withTenant(f.asAgent(f.dev), (tx) =>
      tx.tasks.transition(task.id, { status: 'in_progress' }),
    );
    await asUser((tx) => tx.tasks.delete(task.id));
    const entries = await allEntries(f.projectId, task.id);
    // Oldest first here: the page order is newest first.
    const oldestFirst = [...entries].reverse();
    expect(oldestFirst.map((e) => e.kind)).toEqual([
      'task_created',
      'task_status_changed',
      'task_assigned',
      'task_status_changed',
      'task_deleted',
    ]);
    expect(oldestFirst[0]).toMatchObject({
      projectId: f.projectId,
      taskId: task.id,
      summary: 'Task "Write the docs" created (P2, backlog)',
      actorType: 'user',
      actorId: f.owner.id,
      isPublic: true,
    });
    expect(oldestFirst[3]).toMatchObject({
      summary: 'Task "Write the docs" moved from assigned to in_progress',
      details: { from: 'assigned', to: 'in_progress', retryCount: 0 },
      actorType: 'agent',
      actorId: f.dev,
    });
    const whole = await asUser((tx) => tx.activityFeed.list({ projectId: f.projectId, limit: 1000 }));
    expect(whole.items.filter((e) => e.taskId === task.id)).toEqual(entries);
    for (let i = 1; i < whole.items.length; i++) {
      expect(whole.items[i - 1]!.occurredAt.getTime()).toBeGreaterThanOrEqual(
        whole.items[i]!.occurredAt.getTime(),
      );
    }
  });

  it('cannot be written, changed or removed by the application role', async () => {
    const task = await asUser((tx) => tx.tasks.create({ projectId: f.projectId, title: 'Guarded' }));
    const before = await ownerCount(h, 'activity_feed WHERE tenant_id = $1', [f.tenant.id]);
    const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
      [
        'insert',
        (tx) =>
          tx.query(
            `INSERT INTO activity_feed (project_id, task_id, kind, summary) VALUES ($1, $2, 'forged', 'x')`,
            [f.projectId, task.id],
          ),
      ],
      [
        'update',
        (tx) => tx.query(`UPDATE activity_feed SET summary = 'rewritten' WHERE task_id = $1`, [task.id]),
      ],
      ['delete', (tx) => tx.query('DELETE FROM activity_feed WHERE task_id = $1', [task.id])],
      [
        'call the writer',
        (tx) =>
          tx.query(`SELECT agentflow.append_activity($1, $2, $3, 'forged', 'x', '{}', true)`, [
            f.tenant.id,
            f.projectId,
            task.id,
          ]),
      ],
    ];
    for (const [label, attempt] of attempts) {
      const error = await caught(asUser(attempt));
      expect(error, label).toBeInstanceOf(ForbiddenError);
    }
    // Nor may the service role change what happened.
    const service = await caught(
      h.store.asService({ actor: 'test' }, (svc) =>
        svc.query(`UPDATE activity_feed SET summary = 'rewritten' WHERE task_id = $1`, [task.id]),
      ),
    );
    expect(service).toBeInstanceOf(ForbiddenError);
    expect(await ownerCount(h, 'activity_feed WHERE tenant_id = $1', [f.tenant.id])).toBe(before);
    expect(await ownerCount(h, `activity_feed WHERE summary = 'rewritten' OR kind = 'forged'`)).toBe(0);
  });

  it('filters private entries out with publicOnly', async () => {
    const task = await asUser((tx) => tx.tasks.create({ projectId: f.otherProjectId, title: 'Secret' }));
    // Private entries come from tables with an is_public column (comments…); made here as the owner.
    await h.asOwner((c) =>
      c.query(
        `INSERT INTO activity_feed (tenant_id, project_id, task_id, kind, summary, is_public)
         VALUES ($1, $2, $3, 'comment_added', 'internal note', false)`,
        [f.tenant.id, f.otherProjectId, task.id],
      ),
    );
    const all = await asUser((tx) => tx.activityFeed.list({ projectId: f.otherProjectId }));
    const publicOnly = await asUser((tx) =>
      tx.activityFeed.list({ projectId: f.otherProjectId, publicOnly: true }),
    );
    expect(all.items.map((e) => e.summary)).toContain('internal note');
    expect(publicOnly.items.map((e) => e.summary)).not.toContain('internal note');
    expect(publicOnly.items.every((e) => e.isPublic)).toBe(true);
  });

  it('shows nothing of another tenant or of a deleted project, and refuses bad input', async () => {
    await h.store.withTenant(other.context, (tx) =>
      tx.tasks.create({ projectId: other.projectId, title: 'Theirs' }),
    );
    expect((await asUser((tx) => tx.activityFeed.list({ projectId: other.projectId }))).items).toEqual([]);
    const forged = encodeCursor('activity feed', [new Date().toISOString(), other.projectId]);
    expect(
      (await asUser((tx) => tx.activityFeed.list({ projectId: other.projectId, cursor: forged }))).items,
    ).toEqual([]);
    const project = await asUser((tx) => tx.projects.create({ slug: 'feed-gone', name: 'Gone' }));
    await asUser((tx) => tx.tasks.create({ projectId: project.id, title: 'soon gone' }));
    expect((await asUser((tx) => tx.activityFeed.list({ projectId: project.id }))).items).toHaveLength(1);
    await asUser((tx) => tx.projects.delete(project.id));
    expect((await asUser((tx) => tx.activityFeed.list({ projectId: project.id }))).items).toEqual([]);
    for (const input of [
      {},
      { projectId: 'nope' },
      { projectId: f.projectId, limit: 0 },
      { projectId: f.projectId, cursor: 'x!' },
    ]) {
      const error = await caught(asUser((tx) => tx.activityFeed.list(input as never)));
      expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
    }
  });
});
