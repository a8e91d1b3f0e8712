import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type TaskComment,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createNotesTenant, feedOf, type NotesFixture } from './task-notes-fixtures.ts';

describeEachEngine('task comments', (h) => {
  let f: NotesFixture;
  let other: NotesFixture;
  let taskId: string;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);
  const stored = (id: string) => h.asOwner((c) => c.query('SELECT * FROM task_comments WHERE id = $1', [id]));
  const commentsOf = (task: string) => ownerCount(h, 'task_comments WHERE task_id = $1', [task]);

  beforeAll(async () => {
    f = await createNotesTenant(h);
    other = await createNotesTenant(h);
    taskId = await f.task('Login form');
  });

  describe('writing and reading', () => {
    it('takes comments by a user and by an agent, each as itself, with an activity entry of its visibility', async () => {
      const task = await f.task();
      const byUser = await asUser((tx) => tx.taskComments.create(task, { body: 'Please add tests' }));
      expect(byUser).toMatchObject({
        taskId: task,
        authorUserId: f.owner.id,
        authorAgentId: null,
        body: 'Please add tests',
        isPublic: true,
        isAiGenerated: false,
        aiMetadata: null,
        githubCommentId: null,
        editedAt: null,
        deletedAt: null,
      });
      const byAgent = await asAgent(f.dev, (tx) =>
        tx.taskComments.create(task, {
          body: 'Tests added; coverage 91%',
          isPublic: false,
          isAiGenerated: true,
          aiMetadata: { model: 'claude', confidence: 0.9 },
          githubCommentId: 9_007_199_254_740_991,
        }),
      );
      expect(byAgent).toMatchObject({
        authorAgentId: f.dev,
        authorUserId: null,
        isPublic: false,
        isAiGenerated: true,
        aiMetadata: { model: 'claude', confidence: 0.9 },
        githubCommentId: 9_007_199_254_740_991,
      });
      expect(await feedOf(h, task)).toEqual([
        {
          kind: 'comment_added',
          summary: 'Please add tests',
          details: {
            id: byUser.id,
            is_ai_generated: false,
            author_agent_id: null,
            author_user_id: f.owner.id,
          },
          is_public: true,
          actor_type: 'user',
          actor_id: f.owner.id,
        },
        {
          kind: 'comment_added',
          summary: 'Tests added; coverage 91%',
          details: { id: byAgent.id, is_ai_generated: true, author_agent_id: f.dev, author_user_id: null },
          is_public: false,
          actor_type: 'agent',
          actor_id: f.dev,
        },
      ]);
      expect(await asUser((tx) => tx.taskComments.get(byAgent.id))).toEqual(byAgent);
    });

    it('lists a task’s comments oldest first, page by page, ties on the time included', async () => {
      const task = await f.task();
      // One transaction: all three share created_at, the id breaks the tie.
      const made = await asUser(async (tx) => {
        const rows: TaskComment[] = [];
        for (const body of ['one', 'two', 'three']) rows.push(await tx.taskComments.create(task, { body }));
        return rows;
      });
      made.push(await asAgent(f.dev, (tx) => tx.taskComments.create(task, { body: 'four' })));
      const pages = await allPages(2, (page) => asUser((tx) => tx.taskComments.list(task, page)));
      const expected = [...made.slice(0, 3)].sort((a, b) => a.id.localeCompare(b.id));
      expect(pages.flat().map((c) => c.id)).toEqual([...expected.map((c) => c.id), made[3]!.id]);
      expect(
        (await asUser((tx) => tx.taskComments.list(taskId))).items.every((c) => c.taskId === taskId),
      ).toBe(true);
    });
  });

  describe('rules the database keeps', () => {
    it('refuses a forged author, through raw SQL as agentflow_app, and writes nothing', async () => {
      const before = await commentsOf(taskId);
      const attempts: Array<[string, () => Promise<unknown>]> = [
        [
          'agent as another agent',
          () =>
            asAgent(f.dev, (tx) =>
              tx.query('INSERT INTO task_comments (task_id, author_agent_id, body) VALUES ($1, $2, $3)', [
                taskId,
                f.lead,
                'as the lead',
              ]),
            ),
        ],
        [
          'agent as a user',
          () =>
            asAgent(f.dev, (tx) =>
              tx.query('INSERT INTO task_comments (task_id, author_user_id, body) VALUES ($1, $2, $3)', [
                taskId,
                f.owner.id,
                'as the CEO',
              ]),
            ),
        ],
        [
          'user as an agent',
          () =>
            asUser((tx) =>
              tx.query('INSERT INTO task_comments (task_id, author_agent_id, body) VALUES ($1, $2, $3)', [
                taskId,
                f.dev,
                'as the dev',
              ]),
            ),
        ],
        [
          'user as another user',
          () =>
            asUser((tx) =>
              tx.query('INSERT INTO task_comments (task_id, author_user_id, body) VALUES ($1, $2, $3)', [
                taskId,
                randomUUID(),
                'as someone',
              ]),
            ),
        ],
      ];
      for (const [label, attempt] of attempts) {
        const error = await caught(attempt());
        expect(error, label).toBeInstanceOf(ForbiddenError);
        expect(error, label).toMatchObject({ code: 'permission_denied', entity: 'task comment' });
      }
      expect(await commentsOf(taskId)).toBe(before);
      // Naming no author, raw SQL gets the actor as author all the same.
      const [row] = await asAgent(f.lead, (tx) =>
        tx.query<{ author_agent_id: string; author_user_id: string | null }>(
          'INSERT INTO task_comments (task_id, body) VALUES ($1, $2) RETURNING author_agent_id, author_user_id',
          [taskId, 'raw but honest'],
        ),
      );
      expect(row).toEqual({ author_agent_id: f.lead, author_user_id: null });
    });

    it('lets only the author edit the body; the database stamps edited_at and keeps the rest', async () => {
      const comment = await asAgent(f.dev, (tx) => tx.taskComments.create(taskId, { body: 'draft' }));
      const edited = await asAgent(f.dev, (tx) => tx.taskComments.update(comment.id, { body: 'final' }));
      expect(edited).toMatchObject({ body: 'final', authorAgentId: f.dev });
      expect(edited.editedAt).toBeInstanceOf(Date);

      for (const [label, attempt] of [
        [
          'another agent',
          () => asAgent(f.lead, (tx) => tx.taskComments.update(comment.id, { body: 'hijacked' })),
        ],
        ['the owner', () => asUser((tx) => tx.taskComments.update(comment.id, { body: 'hijacked' }))],
        [
          'raw SQL of another agent',
          () =>
            asAgent(f.lead, (tx) =>
              tx.query(`UPDATE task_comments SET body = 'hijacked' WHERE id = $1`, [comment.id]),
            ),
        ],
      ] as const) {
        const error = await caught(attempt());
        expect(error, label).toBeInstanceOf(ForbiddenError);
        expect(error, label).toMatchObject({ code: 'not_author', entity: 'task comment' });
      }
      for (const assignment of [
        `author_agent_id = '${f.lead}'`,
        'is_public = false',
        'is_ai_generated = true',
        `task_id = '${taskId}'::uuid, created_at = now() - interval '1 day'`,
      ]) {
        const error = await caught(
          asAgent(f.dev, (tx) =>
            tx.query(`UPDATE task_comments SET ${assignment} WHERE id = $1`, [comment.id]),
          ),
        );
        expect(error, assignment).toBeInstanceOf(ValidationError);
      }
      // edited_at is the database's: given without an edit, the old value stays.
      await asAgent(f.dev, (tx) =>
        tx.query(`UPDATE task_comments SET edited_at = '2000-01-01' WHERE id = $1`, [comment.id]),
      );
      const [row] = await stored(comment.id);
      expect(row).toMatchObject({ body: 'final', author_agent_id: f.dev, is_public: true });
      expect(new Date(row!.edited_at as string)).toEqual(edited.editedAt);
    });

    it('links a GitHub comment once, unique among the tenant’s live comments', async () => {
      const first = await asUser((tx) =>
        tx.taskComments.create(taskId, { body: 'synced', githubCommentId: 1001 }),
      );
      const duplicate = await caught(
        asAgent(f.dev, (tx) => tx.taskComments.create(taskId, { body: 'again', githubCommentId: 1001 })),
      );
      expect(duplicate).toBeInstanceOf(ConflictError);
      expect(duplicate).toMatchObject({
        code: 'duplicate',
        entity: 'task comment',
        field: 'githubCommentId',
      });
      const later = await asAgent(f.dev, (tx) => tx.taskComments.create(taskId, { body: 'to sync' }));
      // The sync links it afterwards, whoever runs it; a duplicate link is refused the same way.
      expect(await asUser((tx) => tx.taskComments.update(later.id, { githubCommentId: 1002 }))).toMatchObject(
        {
          githubCommentId: 1002,
          editedAt: null,
        },
      );
      expect(
        await caught(asUser((tx) => tx.taskComments.update(later.id, { githubCommentId: 1001 }))),
      ).toBeInstanceOf(ValidationError);
      const relinked = await caught(
        asAgent(f.dev, (tx) =>
          tx.query('UPDATE task_comments SET github_comment_id = 1003 WHERE id = $1', [later.id]),
        ),
      );
      expect(relinked).toBeInstanceOf(ValidationError);
      // Another tenant has its own GitHub ids; a deleted comment frees its id.
      const theirTask = await other.task();
      await h.store.withTenant(other.context, (tx) =>
        tx.taskComments.create(theirTask, { body: 'theirs', githubCommentId: 1001 }),
      );
      await asUser((tx) => tx.taskComments.delete(first.id));
      expect(
        (await asUser((tx) => tx.taskComments.create(taskId, { body: 'resynced', githubCommentId: 1001 })))
          .githubCommentId,
      ).toBe(1001);
    });

    it('deletes softly, by the author or an owner; a deleted comment is hidden and frozen', async () => {
      const [mine, theirs] = await asAgent(f.dev, async (tx) => [
        await tx.taskComments.create(taskId, { body: 'mine' }),
        await tx.taskComments.create(taskId, { body: 'the owner removes it' }),
      ]);
      const refused = await caught(asAgent(f.lead, (tx) => tx.taskComments.delete(mine!.id)));
      expect(refused).toMatchObject({ code: 'not_author' });
      await asAgent(f.dev, (tx) => tx.taskComments.delete(mine!.id));
      await asUser((tx) => tx.taskComments.delete(theirs!.id));
      for (const id of [mine!.id, theirs!.id]) {
        await expect(asUser((tx) => tx.taskComments.get(id))).rejects.toBeInstanceOf(NotFoundError);
        await expect(
          asAgent(f.dev, (tx) => tx.taskComments.update(id, { body: 'x' })),
        ).rejects.toBeInstanceOf(NotFoundError);
        await expect(asUser((tx) => tx.taskComments.delete(id))).rejects.toBeInstanceOf(NotFoundError);
        // Raw SQL cannot bring it back or change it: AF092, a NotFoundError.
        const raw = await caught(
          asAgent(f.dev, (tx) => tx.query('UPDATE task_comments SET deleted_at = NULL WHERE id = $1', [id])),
        );
        expect(raw).toBeInstanceOf(NotFoundError);
        expect(raw).toMatchObject({ entity: 'task comment', key: id });
      }
      const all = await asUser((tx) => tx.taskComments.list(taskId, { includeDeleted: true, limit: 1000 }));
      const live = await asUser((tx) => tx.taskComments.list(taskId, { limit: 1000 }));
      expect(all.items.map((c) => c.id)).toEqual(expect.arrayContaining([mine!.id, theirs!.id]));
      expect(live.items.map((c) => c.id)).not.toContain(mine!.id);
      expect((await stored(mine!.id))[0]!.deleted_at).not.toBeNull();
    });
  });

  describe('bad input', () => {
    it('is a ValidationError or NotFoundError and writes nothing', async () => {
      const before = await ownerCount(h, 'task_comments');
      const invalid: Array<[string, unknown, unknown]> = [
        ['empty body', taskId, { body: '' }],
        ['body too long', taskId, { body: 'x'.repeat(65537) }],
        ['metadata of a human comment', taskId, { body: 'x', aiMetadata: { model: 'm' } }],
        ['metadata not an object', taskId, { body: 'x', isAiGenerated: true, aiMetadata: [] }],
        ['github id zero', taskId, { body: 'x', githubCommentId: 0 }],
        ['github id fraction', taskId, { body: 'x', githubCommentId: 1.5 }],
        ['unknown field', taskId, { body: 'x', authorUserId: f.owner.id }],
        ['NUL in the body', taskId, { body: 'a\u0000b' }],
        ['task id not a uuid', 'T-1', { body: 'x' }],
      ];
      for (const [label, task, input] of invalid) {
        const error = await caught(asUser((tx) => tx.taskComments.create(task as string, input as never)));
        expect(error, label).toBeInstanceOf(ValidationError);
      }
      const deleted = await f.task();
      await asUser((tx) => tx.query('UPDATE tasks SET deleted_at = now() WHERE id = $1', [deleted]));
      for (const [label, task] of [
        ['unknown task', randomUUID()],
        ['another tenant’s task', await other.task()],
        ['deleted task', deleted],
      ] as const) {
        const error = await caught(asUser((tx) => tx.taskComments.create(task, { body: 'x' })));
        expect(error, label).toBeInstanceOf(NotFoundError);
        expect(error, label).toMatchObject({ entity: 'task' });
      }
      const raw = await caught(
        asUser((tx) => tx.query(`INSERT INTO task_comments (task_id, body) VALUES ($1, '')`, [taskId])),
      );
      expect(raw).toBeInstanceOf(ValidationError);
      const comment = await asUser((tx) => tx.taskComments.create(taskId, { body: 'kept' }));
      for (const patch of [{}, { body: '' }, { body: 'x', isPublic: false }]) {
        const error = await caught(asUser((tx) => tx.taskComments.update(comment.id, patch as never)));
        expect(error, JSON.stringify(patch)).toBeInstanceOf(ValidationError);
      }
      expect(await ownerCount(h, 'task_comments')).toBe(before + 1);
      expect((await stored(comment.id))[0]).toMatchObject({ body: 'kept', edited_at: null });
      await expect(asUser((tx) => tx.taskComments.get(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        asUser((tx) => tx.taskComments.list(taskId, { cursor: 'not-a-cursor!' })),
      ).rejects.toBeInstanceOf(ValidationError);
    });
  });
});
