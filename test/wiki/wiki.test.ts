import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, diffLines, ForbiddenError, NotFoundError, ValidationError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createWikiTenant, type WikiFixture } from './wiki-fixtures.ts';

const guide = {
  title: 'Deploying to production',
  slug: 'deploying-to-production',
  content: 'Run the migrations.\nDeploy the API.\nWatch the error rate for ten minutes.',
  tags: ['deploy', 'ops'],
};

describeEachEngine('wiki', (h) => {
  let f: WikiFixture;
  const stored = () => ownerCount(h, 'wiki_entries WHERE tenant_id = $1', [f.tenant.id]);
  const contributions = () =>
    h.asOwner((c) =>
      c.query<{ author_id: string; project_id: string | null; payload: Record<string, unknown> }>(
        `SELECT author_id, project_id, payload FROM events
          WHERE tenant_id = $1 AND type = 'wiki_contribution' ORDER BY occurred_at, id`,
        [f.tenant.id],
      ),
    );

  beforeAll(async () => {
    f = await createWikiTenant(h);
  });

  describe('proposal, approval and versions', () => {
    it('proposes, submits and approves, each step a wiki_contribution event in the same transaction', async () => {
      const before = (await contributions()).length;
      const draft = await f.as(f.agent(f.lead), (tx) => tx.wiki.propose(guide));
      expect(draft).toMatchObject({
        entryId: draft.id,
        version: 1,
        parentVersionId: null,
        projectId: null,
        proposedByAgentId: f.lead,
        status: 'draft',
        decidedBy: null,
        decidedAt: null,
        tags: ['deploy', 'ops'],
      });
      expect(draft).not.toHaveProperty('search');
      // Not current until approved.
      await expect(f.as(f.actor, (tx) => tx.wiki.get(draft.id))).rejects.toBeInstanceOf(NotFoundError);
      const pending = await f.as(f.agent(f.lead), (tx) => tx.wiki.submit(draft.id));
      expect(pending.status).toBe('pending_approval');
      const approved = await f.as(f.actor, (tx) => tx.wiki.approve(draft.id));
      expect(approved).toMatchObject({ status: 'approved', decidedBy: f.owner.id, rejectionReason: null });
      expect(approved.decidedAt).toBeInstanceOf(Date);
      const current = await f.as(f.agent(f.dev), (tx) => tx.wiki.get(draft.id));
      expect(current).toMatchObject({ id: draft.id, viewCount: 0, lastViewedAt: null });
      expect((await f.as(f.agent(f.reviewer), (tx) => tx.wiki.getBySlug({ slug: guide.slug }))).id).toBe(
        draft.id,
      );

      const events = (await contributions()).slice(before);
      expect(events.map((e) => e.payload.status)).toEqual(['draft', 'pending_approval', 'approved']);
      expect(events.every((e) => e.author_id === f.lead && e.project_id === null)).toBe(true);
      expect(events[2]!.payload).toMatchObject({
        entryId: draft.id,
        versionId: draft.id,
        version: 1,
        title: guide.title,
        content: guide.content,
        decidedBy: f.owner.id,
      });
    });

    it('keeps every edit as a new version linked to its parent; a rejection needs a reason; diff and history', async () => {
      const v1 = await f.publish(f.lead, {
        title: 'On-call handbook',
        slug: 'on-call-handbook',
        content: 'Page the lead.\nOpen an incident channel.',
      });
      // An edit by another organization agent: fields not given are copied from the current version.
      const v2 = await f.as(f.agent(f.reviewer), (tx) =>
        tx.wiki.edit(v1.entryId, {
          content: 'Page the lead.\nOpen an incident channel.\nWrite the timeline.',
        }),
      );
      expect(v2).toMatchObject({
        entryId: v1.entryId,
        version: 2,
        parentVersionId: v1.id,
        proposedByAgentId: f.reviewer,
        title: 'On-call handbook',
        slug: 'on-call-handbook',
        status: 'draft',
      });
      // One open proposal per entry.
      const second = await caught(
        f.as(f.agent(f.lead), (tx) => tx.wiki.edit(v1.entryId, { title: 'Other' })),
      );
      expect(second).toBeInstanceOf(ConflictError);
      expect((second as ConflictError).code).toBe('proposal_open');
      // The proposer revises its draft in place, then submits.
      const revised = await f.as(f.agent(f.reviewer), (tx) => tx.wiki.revise(v2.id, { tags: ['incident'] }));
      expect(revised).toMatchObject({ id: v2.id, version: 2, tags: ['incident'] });
      await f.as(f.agent(f.reviewer), (tx) => tx.wiki.submit(v2.id));
      // A manager decides; no reason, no rejection (the contract, and the database for raw SQL).
      const noReason = await caught(f.as(f.user(f.manager), (tx) => tx.wiki.reject(v2.id, { reason: ' ' })));
      expect(noReason).toBeInstanceOf(ValidationError);
      const rawNoReason = await caught(
        f.as(f.user(f.manager), (tx) =>
          tx.query(`UPDATE wiki_entries SET status = 'rejected' WHERE id = $1`, [v2.id]),
        ),
      );
      expect(rawNoReason).toBeInstanceOf(ValidationError);
      const rejected = await f.as(f.user(f.manager), (tx) =>
        tx.wiki.reject(v2.id, { reason: 'The timeline belongs in the postmortem template' }),
      );
      expect(rejected).toMatchObject({
        status: 'rejected',
        decidedBy: f.manager,
        rejectionReason: 'The timeline belongs in the postmortem template',
      });
      expect((await f.as(f.actor, (tx) => tx.wiki.get(v1.entryId))).id).toBe(v1.id);

      // The next edit continues from the current approved version, not from the rejected one.
      const v3 = await f.as(f.agent(f.lead), (tx) =>
        tx.wiki.edit(v1.entryId, {
          title: 'On-call handbook (2026)',
          content: 'Page the lead.\nPage the CTO for P0.\nOpen an incident channel.',
          submit: true,
        }),
      );
      expect(v3).toMatchObject({ version: 3, parentVersionId: v1.id, status: 'pending_approval' });
      await f.as(f.actor, (tx) => tx.wiki.approve(v3.id));
      const current = await f.as(f.agent(f.dev), (tx) => tx.wiki.get(v1.entryId));
      expect(current).toMatchObject({ id: v3.id, title: 'On-call handbook (2026)' });
      // The old title is free again, the new one taken.
      expect(
        await ownerCount(h, 'wiki_pages WHERE tenant_id = $1 AND id = $2', [f.tenant.id, v1.entryId]),
      ).toBe(1);

      const history = (
        await allPages(1, (page) => f.as(f.actor, (tx) => tx.wiki.history(v1.entryId, page)))
      ).flat();
      expect(history.map((v) => [v.version, v.status])).toEqual([
        [3, 'approved'],
        [2, 'rejected'],
        [1, 'approved'],
      ]);
      // An agent that did not propose v2 does not see it in the history.
      const seenByDev = await f.as(f.agent(f.dev), (tx) => tx.wiki.history(v1.entryId));
      expect(seenByDev.items.map((v) => v.version)).toEqual([3, 1]);

      const diff = await f.as(f.agent(f.dev), (tx) => tx.wiki.diff({ from: v1.id, to: v3.id }));
      expect(diff).toMatchObject({
        entryId: v1.entryId,
        from: { id: v1.id, version: 1 },
        to: { id: v3.id, version: 3 },
        title: { from: 'On-call handbook', to: 'On-call handbook (2026)' },
        slug: null,
        added: 1,
        removed: 0,
      });
      expect(diff.lines).toEqual([
        { op: 'equal', text: 'Page the lead.' },
        { op: 'add', text: 'Page the CTO for P0.' },
        { op: 'equal', text: 'Open an incident channel.' },
      ]);
      const other = await f.publish(f.lead, { title: 'Unrelated', slug: 'unrelated', content: 'x' });
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.diff({ from: v1.id, to: other.id })))).toBeInstanceOf(
        ValidationError,
      );
    });

    it('diffs lines by their longest common subsequence', () => {
      expect(diffLines('a\nb\nc', 'a\nc\nd')).toEqual([
        { op: 'equal', text: 'a' },
        { op: 'remove', text: 'b' },
        { op: 'equal', text: 'c' },
        { op: 'add', text: 'd' },
      ]);
      expect(diffLines('same', 'same')).toEqual([{ op: 'equal', text: 'same' }]);
    });

    it('lists pending proposals for review, newest first, to the end', async () => {
      const drafts = [];
      for (const n of [1, 2, 3]) {
        drafts.push(
          await f.as(f.agent(f.reviewer), (tx) =>
            tx.wiki.propose({
              title: `Review queue ${n}`,
              slug: `review-queue-${n}`,
              content: 'body',
              submit: true,
            }),
          ),
        );
      }
      const pending = (
        await allPages(2, (page) =>
          f.as(f.actor, (tx) =>
            tx.wiki.list({ status: 'pending_approval', proposedByAgentId: f.reviewer, ...page }),
          ),
        )
      ).flat();
      expect(pending.map((v) => v.id)).toEqual(drafts.reverse().map((d) => d.id));
    });
  });

  describe('an approved version never changes', () => {
    let approved: string;
    let rejected: string;
    beforeAll(async () => {
      approved = (await f.publish(f.lead, { title: 'Frozen', slug: 'frozen', content: 'as approved' })).id;
      const draft = await f.as(f.agent(f.lead), (tx) =>
        tx.wiki.propose({ title: 'Refused', slug: 'refused', content: 'no', submit: true }),
      );
      rejected = (await f.as(f.actor, (tx) => tx.wiki.reject(draft.id, { reason: 'duplicate of frozen' })))
        .id;
    });

    it('refuses a change through the repository, raw SQL as agentflow_app, and even the owner', async () => {
      for (const id of [approved, rejected]) {
        const revise = await caught(
          f.as(f.agent(f.lead), (tx) => tx.wiki.revise(id, { content: 'changed' })),
        );
        expect((revise as ConflictError).code).toBe('version_frozen');
        for (const statement of [
          `UPDATE wiki_entries SET content = 'changed' WHERE id = $1`,
          `UPDATE wiki_entries SET status = 'pending_approval' WHERE id = $1`,
          `UPDATE wiki_entries SET decided_at = now() WHERE id = $1`,
        ]) {
          const raw = await caught(f.as(f.actor, (tx) => tx.query(statement, [id])));
          expect((raw as ConflictError).code, statement).toBe('version_frozen');
        }
        const approveAgain = await caught(f.as(f.actor, (tx) => tx.wiki.approve(id)));
        expect((approveAgain as ConflictError).code).toBe('version_frozen');
        await expect(
          h.asOwner((c) => c.query(`UPDATE wiki_entries SET content = 'changed' WHERE id = $1`, [id])),
        ).rejects.toThrow(/never changes/);
        // No DELETE for the application; the trigger refuses it to all but the table's owner.
        expect(
          await caught(f.as(f.actor, (tx) => tx.query('DELETE FROM wiki_entries WHERE id = $1', [id]))),
        ).toBeInstanceOf(ForbiddenError);
      }
      const [row] = await h.asOwner((c) =>
        c.query<{ content: string }>('SELECT content FROM wiki_entries WHERE id = $1', [approved]),
      );
      expect(row!.content).toBe('as approved');
    });

    it('freezes a pending version’s content and refuses skipped or backward transitions', async () => {
      const draft = await f.as(f.agent(f.lead), (tx) =>
        tx.wiki.propose({ title: 'Transitions', slug: 'transitions', content: 'v1' }),
      );
      const skip = await caught(f.as(f.actor, (tx) => tx.wiki.approve(draft.id)));
      expect((skip as ConflictError).code).toBe('invalid_transition');
      await f.as(f.agent(f.lead), (tx) => tx.wiki.submit(draft.id));
      const revise = await caught(
        f.as(f.agent(f.lead), (tx) => tx.wiki.revise(draft.id, { content: 'sneaky' })),
      );
      expect((revise as ConflictError).code).toBe('version_frozen');
      const back = await caught(
        f.as(f.agent(f.lead), (tx) =>
          tx.query(`UPDATE wiki_entries SET status = 'draft' WHERE id = $1`, [draft.id]),
        ),
      );
      expect((back as ConflictError).code).toBe('invalid_transition');
      const forged = await caught(
        f.as(f.actor, (tx) =>
          tx.query('UPDATE wiki_entries SET version = 7, proposed_by_agent_id = $2 WHERE id = $1', [
            draft.id,
            f.reviewer,
          ]),
        ),
      );
      expect((forged as ConflictError).code).toBe('version_frozen');
    });
  });

  describe('who may propose and who may decide', () => {
    it('lets only organization agents propose, each as itself; nothing is written otherwise', async () => {
      const before = await stored();
      const input = { title: 'Not allowed', slug: 'not-allowed', content: 'x' };
      for (const actor of [f.agent(f.dev), f.actor, f.user(f.manager), f.user(f.member)]) {
        const error = await caught(f.as(actor, (tx) => tx.wiki.propose(input)));
        expect(error, JSON.stringify(actor)).toBeInstanceOf(ForbiddenError);
      }
      // Raw SQL as agentflow_app: an organization agent naming another as the proposer.
      const forged = await caught(
        f.as(f.agent(f.lead), (tx) =>
          tx.query(
            `INSERT INTO wiki_entries (id, entry_id, version, proposed_by_agent_id, title, slug, content)
             VALUES ($1, $1, 1, $2, 'Forged', 'forged', 'x')`,
            [randomUUID(), f.reviewer],
          ),
        ),
      );
      expect(forged).toBeInstanceOf(ForbiddenError);
      // …or inserting an approved version directly: it starts as a draft whatever it says.
      const id = randomUUID();
      await f.as(f.agent(f.lead), (tx) =>
        tx.query(
          `INSERT INTO wiki_entries (id, entry_id, version, proposed_by_agent_id, title, slug, content, status, decided_at)
           VALUES ($1, $1, 1, $2, 'Self approved', 'self-approved', 'x', 'approved', now())`,
          [id, f.lead],
        ),
      );
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(id))).status).toBe('draft');
      expect(await stored()).toBe(before + 1);
      // A project agent cannot edit an entry either.
      const entry = await f.publish(f.lead, { title: 'Editable', slug: 'editable', content: 'x' });
      expect(
        await caught(f.as(f.agent(f.dev), (tx) => tx.wiki.edit(entry.entryId, { content: 'y' }))),
      ).toBeInstanceOf(ForbiddenError);
    });

    it('lets only the proposer revise and submit, and only a human who may approve decide', async () => {
      const draft = await f.as(f.agent(f.lead), (tx) =>
        tx.wiki.propose({ title: 'Decisions', slug: 'decisions', content: 'x' }),
      );
      // Another agent does not even see the draft; the owner sees it but does not submit for the agent.
      expect(await caught(f.as(f.agent(f.reviewer), (tx) => tx.wiki.submit(draft.id)))).toBeInstanceOf(
        NotFoundError,
      );
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.submit(draft.id)))).toBeInstanceOf(ForbiddenError);
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.revise(draft.id, { content: 'y' })))).toBeInstanceOf(
        ForbiddenError,
      );
      await f.as(f.agent(f.lead), (tx) => tx.wiki.submit(draft.id));
      // The proposing agent may not approve its own proposal; a plain member sees no pending version.
      expect(await caught(f.as(f.agent(f.lead), (tx) => tx.wiki.approve(draft.id)))).toBeInstanceOf(
        ForbiddenError,
      );
      expect(
        await caught(
          f.as(f.agent(f.lead), (tx) =>
            tx.query(`UPDATE wiki_entries SET status = 'approved', decided_at = now() WHERE id = $1`, [
              draft.id,
            ]),
          ),
        ),
      ).toBeInstanceOf(ForbiddenError);
      expect(await caught(f.as(f.user(f.member), (tx) => tx.wiki.approve(draft.id)))).toBeInstanceOf(
        NotFoundError,
      );
      expect(
        await f.as(f.user(f.member), (tx) =>
          tx.query(`UPDATE wiki_entries SET status = 'approved' WHERE id = $1 RETURNING id`, [draft.id]),
        ),
      ).toEqual([]);
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(draft.id))).status).toBe('pending_approval');
      // The decider is the actor, whatever the statement says.
      await f.as(f.user(f.manager), (tx) =>
        tx.query(`UPDATE wiki_entries SET status = 'approved', decided_by = $2 WHERE id = $1`, [
          draft.id,
          f.owner.id,
        ]),
      );
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(draft.id))).decidedBy).toBe(f.manager);
    });
  });

  describe('slug and title unique per scope among current versions', () => {
    it('refuses a proposal colliding with a current entry of its scope, and an approval that would', async () => {
      await f.publish(f.lead, { title: 'Code review checklist', slug: 'code-review', content: 'x' });
      for (const clash of [
        { title: 'Another title', slug: 'code-review' },
        { title: 'Code review checklist', slug: 'another-slug' },
      ]) {
        const error = await caught(
          f.as(f.agent(f.reviewer), (tx) => tx.wiki.propose({ ...clash, content: 'y' })),
        );
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('duplicate');
      }
      // The same slug and title in a project's scope is another entry.
      const scoped = await f.publish(f.lead, {
        title: 'Code review checklist',
        slug: 'code-review',
        content: 'web only',
        projectId: f.projectId,
      });
      expect(scoped.projectId).toBe(f.projectId);
      // Two proposals of one new slug: the first approved wins, the second's approval is refused.
      const a = await f.as(f.agent(f.lead), (tx) =>
        tx.wiki.propose({ title: 'Release train A', slug: 'release-train', content: 'a', submit: true }),
      );
      const b = await f.as(f.agent(f.reviewer), (tx) =>
        tx.wiki.propose({ title: 'Release train B', slug: 'release-train', content: 'b', submit: true }),
      );
      await f.as(f.actor, (tx) => tx.wiki.approve(a.id));
      const error = await caught(f.as(f.actor, (tx) => tx.wiki.approve(b.id)));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).field).toBe('slug');
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(b.id))).status).toBe('pending_approval');
    });
  });

  describe('view count', () => {
    it('counts every view exactly once, concurrent ones included, and only counts up', async () => {
      const entry = await f.publish(f.lead, { title: 'Popular', slug: 'popular', content: 'x' });
      await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          f.as(f.agent(n % 2 ? f.dev : f.reviewer), (tx) => tx.wiki.view(entry.entryId)),
        ),
      );
      const read = await f.as(f.user(f.member), (tx) => tx.wiki.view(entry.entryId));
      expect(read).toMatchObject({ id: entry.id, viewCount: 21 });
      expect(read.lastViewedAt).toBeInstanceOf(Date);
      // The counter lives beside the frozen version: the version row did not change.
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(entry.id))).updatedAt).toEqual(entry.updatedAt);
      const lower = await caught(
        f.as(f.actor, (tx) =>
          tx.query('UPDATE wiki_pages SET view_count = 0 WHERE id = $1', [entry.entryId]),
        ),
      );
      expect(lower).toBeInstanceOf(ForbiddenError);
      const repoint = await caught(
        f.as(f.actor, (tx) =>
          tx.query('UPDATE wiki_pages SET current_version_id = id, slug = $2 WHERE id = $1', [
            entry.entryId,
            'x',
          ]),
        ),
      );
      expect(repoint).toBeInstanceOf(ForbiddenError);
      await expect(f.as(f.actor, (tx) => tx.wiki.view(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('bad input', () => {
    it('is a typed error and writes nothing', async () => {
      const before = await stored();
      const eventsBefore = (await contributions()).length;
      const ok = { title: 'Valid', slug: 'valid', content: 'x' };
      for (const bad of [
        { ...ok, slug: 'Not A Slug' },
        { ...ok, slug: 'double--hyphen' },
        { ...ok, title: '' },
        { ...ok, title: ' padded ' },
        { ...ok, content: '   ' },
        { ...ok, content: 'x'.repeat(100_001) },
        { ...ok, tags: ['UPPER'] },
        { ...ok, tags: ['a', 'a'] },
        { ...ok, projectId: 'not-a-uuid' },
        { ...ok, unknown: true },
      ]) {
        const error = await caught(f.as(f.agent(f.lead), (tx) => tx.wiki.propose(bad as never)));
        expect(error, JSON.stringify(bad).slice(0, 80)).toBeInstanceOf(ValidationError);
      }
      expect(
        await caught(f.as(f.agent(f.lead), (tx) => tx.wiki.propose({ ...ok, projectId: randomUUID() }))),
      ).toBeInstanceOf(NotFoundError);
      expect(
        await caught(f.as(f.agent(f.lead), (tx) => tx.wiki.edit(randomUUID(), { content: 'y' }))),
      ).toBeInstanceOf(NotFoundError);
      expect(await caught(f.as(f.agent(f.lead), (tx) => tx.wiki.submit('nope')))).toBeInstanceOf(
        ValidationError,
      );
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.search({ query: '  ' })))).toBeInstanceOf(
        ValidationError,
      );
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.search({ query: 'x', limit: 101 })))).toBeInstanceOf(
        ValidationError,
      );
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.list({ cursor: 'not-a-cursor!' })))).toBeInstanceOf(
        ValidationError,
      );
      // Raw SQL past the contract meets the CHECKs.
      const raw = await caught(
        f.as(f.agent(f.lead), (tx) =>
          tx.query(
            `INSERT INTO wiki_entries (id, entry_id, version, proposed_by_agent_id, title, slug, content)
             VALUES ($1, $1, 1, $2, 'Raw', 'Bad Slug', 'x')`,
            [randomUUID(), f.lead],
          ),
        ),
      );
      expect(raw).toBeInstanceOf(ValidationError);
      expect(await stored()).toBe(before);
      expect((await contributions()).length).toBe(eventsBefore);
    });
  });
});
