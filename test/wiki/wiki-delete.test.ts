import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ConflictError, ForbiddenError, NotFoundError, type WikiEntry } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createWikiTenant, type WikiFixture } from './wiki-fixtures.ts';

describeEachEngine('wiki: soft delete of an entry', (h) => {
  let f: WikiFixture;
  const deletedAt = (entryId: string) =>
    h.asOwner((c) =>
      c.query<{ id: string; deleted_at: number | null }>(
        `SELECT id, extract(epoch FROM deleted_at)::float8 AS deleted_at FROM wiki_entries
          WHERE tenant_id = $1 AND entry_id = $2 ORDER BY version`,
        [f.tenant.id, entryId],
      ),
    );
  const pageDeletedAt = async (entryId: string) => {
    const [row] = await h.asOwner((c) =>
      c.query<{ deleted_at: number | null }>(
        'SELECT extract(epoch FROM deleted_at)::float8 AS deleted_at FROM wiki_pages WHERE tenant_id = $1 AND id = $2',
        [f.tenant.id, entryId],
      ),
    );
    return row?.deleted_at;
  };
  /** A published entry (v1 approved) with a pending edit (v2) by another organization agent. */
  const entryWithPendingEdit = async (slug: string) => {
    const v1 = await f.publish(f.lead, { title: `Entry ${slug}`, slug, content: 'First.' });
    const v2 = await f.as(f.agent(f.reviewer), (tx) =>
      tx.wiki.edit(v1.entryId, { content: 'First.\nSecond.', submit: true }),
    );
    return { v1, v2 };
  };

  beforeAll(async () => {
    f = await createWikiTenant(h);
  });

  describe('who may delete', () => {
    it('refuses every agent (the proposer included) and a plain member, through the repository and raw SQL; nothing changes', async () => {
      const { v1 } = await entryWithPendingEdit('who-may-delete');
      for (const actor of [f.agent(f.lead), f.agent(f.reviewer), f.agent(f.dev), f.user(f.member)]) {
        const error = await caught(f.as(actor, (tx) => tx.wiki.delete(v1.entryId)));
        expect(error, JSON.stringify(actor)).toBeInstanceOf(ForbiddenError);
        const raw = await caught(
          f.as(actor, (tx) =>
            tx.query('UPDATE wiki_entries SET deleted_at = now() WHERE entry_id = $1', [v1.entryId]),
          ),
        );
        expect(raw, JSON.stringify(actor)).toBeInstanceOf(ForbiddenError);
      }
      // An agent of another project sees no such entry at all.
      const project = await f.publish(f.lead, {
        title: 'Web only',
        slug: 'web-only',
        content: 'x',
        projectId: f.projectId,
      });
      expect(await caught(f.as(f.agent(f.apiDev), (tx) => tx.wiki.delete(project.entryId)))).toBeInstanceOf(
        NotFoundError,
      );
      expect((await deletedAt(v1.entryId)).every((row) => row.deleted_at === null)).toBe(true);
      expect((await deletedAt(project.entryId))[0]!.deleted_at).toBeNull();
      expect(await pageDeletedAt(v1.entryId)).toBeNull();
    });

    it('lets a human owner, admin or manager delete: every version and the page, at the database’s time', async () => {
      const { v1 } = await entryWithPendingEdit('manager-deletes');
      const before = Date.now();
      await f.as(f.user(f.manager), (tx) => tx.wiki.delete(v1.entryId));
      const rows = await deletedAt(v1.entryId);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.deleted_at! * 1000).toBeGreaterThanOrEqual(before - 60_000);
      }
      expect(rows[0]!.deleted_at).toBe(rows[1]!.deleted_at);
      expect(await pageDeletedAt(v1.entryId)).toBe(rows[0]!.deleted_at);
      // Deleted once: a second delete finds no live entry.
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.delete(v1.entryId)))).toBeInstanceOf(NotFoundError);
      expect(await caught(f.as(f.actor, (tx) => tx.wiki.delete(randomUUID())))).toBeInstanceOf(NotFoundError);
    });

    it('deletes the whole entry when raw SQL names one version, and ignores a time the caller gives', async () => {
      const { v1, v2 } = await entryWithPendingEdit('one-version-named');
      await f.as(f.actor, (tx) =>
        tx.query(`UPDATE wiki_entries SET deleted_at = '2001-01-01' WHERE id = $1`, [v2.id]),
      );
      const rows = await deletedAt(v1.entryId);
      const lastHour = Date.now() / 1000 - 3600;
      expect(rows.map((row) => row.deleted_at! > lastHour)).toEqual([true, true]);
      expect(await pageDeletedAt(v1.entryId)).toBe(rows[0]!.deleted_at);
    });

    it('refuses a deletion that changes anything else at once (version_frozen)', async () => {
      const { v1, v2 } = await entryWithPendingEdit('delete-and-change');
      for (const [statement, id] of [
        [`UPDATE wiki_entries SET deleted_at = now(), content = 'rewritten' WHERE id = $1`, v1.id],
        [`UPDATE wiki_entries SET deleted_at = now(), status = 'approved' WHERE id = $1`, v2.id],
      ] as const) {
        const error = await caught(f.as(f.actor, (tx) => tx.query(statement, [id])));
        expect((error as ConflictError).code, statement).toBe('version_frozen');
      }
      expect((await deletedAt(v1.entryId)).every((row) => row.deleted_at === null)).toBe(true);
    });
  });

  describe('a deleted entry', () => {
    let v1: WikiEntry;
    let v2: WikiEntry;
    let draft: WikiEntry;
    const title = 'Rotating the signing keys';
    const slug = 'rotating-the-signing-keys';

    beforeAll(async () => {
      v1 = await f.publish(f.lead, { title, slug, content: 'Rotate the signing keys every quarter.' });
      await f.as(f.agent(f.dev), (tx) => tx.wiki.view(v1.entryId));
      v2 = await f.as(f.agent(f.reviewer), (tx) =>
        tx.wiki.edit(v1.entryId, { content: 'Rotate the signing keys every month.', submit: true }),
      );
      // Another entry's open draft, to show a deleted one's draft is frozen too (one open per entry).
      const other = await f.publish(f.lead, { title: 'Key ceremony', slug: 'key-ceremony', content: 'x' });
      draft = await f.as(f.agent(f.lead), (tx) => tx.wiki.edit(other.entryId, { content: 'y' }));
      await f.as(f.actor, (tx) => tx.wiki.delete(v1.entryId));
      await f.as(f.actor, (tx) => tx.wiki.delete(other.entryId));
    });

    it('is gone from search, reading by id and slug, viewing and listing, for agents and approvers alike', async () => {
      for (const actor of [f.agent(f.lead), f.agent(f.dev), f.user(f.member), f.actor]) {
        const who = JSON.stringify(actor);
        await f.as(actor, async (tx) => {
          expect(await caught(tx.wiki.get(v1.entryId)), who).toBeInstanceOf(NotFoundError);
          expect(await caught(tx.wiki.getBySlug({ slug })), who).toBeInstanceOf(NotFoundError);
          expect(await caught(tx.wiki.view(v1.entryId)), who).toBeInstanceOf(NotFoundError);
          expect(
            (await tx.wiki.search({ query: 'rotate signing keys' }).then(({ items }) => items)).map(
              (hit) => hit.entryId,
            ),
            who,
          ).toEqual([]);
          const listed = (await allPages(100, (page) => tx.wiki.list(page))).flat();
          expect(
            listed.filter((row) => row.entryId === v1.entryId || row.id === draft.id),
            who,
          ).toEqual([]);
          const pending = (
            await allPages(100, (page) => tx.wiki.list({ ...page, status: 'pending_approval' }))
          ).flat();
          expect(
            pending.map((row) => row.id),
            who,
          ).not.toContain(v2.id);
        });
      }
      // Raw SQL as agentflow_app: an agent reads no version and no page of it.
      const [seen] = await f.as(f.agent(f.lead), (tx) =>
        tx.query<{ versions: number; pages: number }>(
          `SELECT (SELECT count(*)::int FROM wiki_entries WHERE entry_id = $1) AS versions,
                  (SELECT count(*)::int FROM wiki_pages WHERE id = $1) AS pages`,
          [v1.entryId],
        ),
      );
      expect(seen).toEqual({ versions: 0, pages: 0 });
      // Nor does search_wiki, called directly.
      const [hits] = await f.as(f.actor, (tx) =>
        tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM agentflow.search_wiki('rotate signing keys', NULL, NULL, NULL, NULL, NULL, 100)`,
        ),
      );
      expect(hits!.n).toBe(0);
    });

    it('keeps its versions as history, readable to approvers only', async () => {
      const history = await f.as(f.user(f.manager), (tx) => tx.wiki.history(v1.entryId));
      expect(history.items.map((row) => [row.version, row.status])).toEqual([
        [2, 'pending_approval'],
        [1, 'approved'],
      ]);
      expect(history.items.every((row) => row.deletedAt instanceof Date)).toBe(true);
      expect((await f.as(f.actor, (tx) => tx.wiki.getVersion(v1.id))).content).toBe(
        'Rotate the signing keys every quarter.',
      );
      expect((await f.as(f.actor, (tx) => tx.wiki.diff({ from: v1.id, to: v2.id }))).added).toBe(1);
      for (const actor of [f.agent(f.lead), f.agent(f.reviewer), f.agent(f.dev), f.user(f.member)]) {
        const who = JSON.stringify(actor);
        expect(await caught(f.as(actor, (tx) => tx.wiki.history(v1.entryId))), who).toBeInstanceOf(
          NotFoundError,
        );
        expect(await caught(f.as(actor, (tx) => tx.wiki.getVersion(v1.id))), who).toBeInstanceOf(
          NotFoundError,
        );
      }
    });

    it('takes no new version, revision, submission or decision (NotFoundError), nor an undelete', async () => {
      const before = await deletedAt(v1.entryId);
      const attempts: [string, () => Promise<unknown>][] = [
        ['edit', () => f.as(f.agent(f.lead), (tx) => tx.wiki.edit(v1.entryId, { content: 'again' }))],
        ['approve', () => f.as(f.actor, (tx) => tx.wiki.approve(v2.id))],
        ['reject', () => f.as(f.user(f.manager), (tx) => tx.wiki.reject(v2.id, { reason: 'gone' }))],
        ['revise', () => f.as(f.agent(f.lead), (tx) => tx.wiki.revise(draft.id, { content: 'z' }))],
        ['submit', () => f.as(f.agent(f.lead), (tx) => tx.wiki.submit(draft.id))],
        [
          'raw insert of a version',
          () =>
            f.as(f.agent(f.lead), (tx) =>
              tx.query(
                `INSERT INTO wiki_entries (id, entry_id, version, proposed_by_agent_id, title, slug, content)
               VALUES ($1, $2, 3, $3, 'Back', 'back', 'x')`,
                [randomUUID(), v1.entryId, f.lead],
              ),
            ),
        ],
        [
          'raw approval',
          () =>
            f.as(f.actor, (tx) =>
              tx.query(`UPDATE wiki_entries SET status = 'approved' WHERE id = $1`, [v2.id]),
            ),
        ],
        [
          'raw undelete',
          () =>
            f.as(f.actor, (tx) =>
              tx.query('UPDATE wiki_entries SET deleted_at = NULL WHERE entry_id = $1', [v1.entryId]),
            ),
        ],
      ];
      for (const [what, attempt] of attempts) {
        expect(await caught(attempt()), what).toBeInstanceOf(NotFoundError);
      }
      // The owner role too: a deleted entry's versions never change.
      await expect(
        h.asOwner((c) => c.query('UPDATE wiki_entries SET deleted_at = NULL WHERE id = $1', [v1.id])),
      ).rejects.toThrow(/is deleted/);
      expect(await deletedAt(v1.entryId)).toEqual(before);
      const [count] = await h.asOwner((c) =>
        c.query<{ n: number }>('SELECT count(*)::int AS n FROM wiki_entries WHERE entry_id = $1', [
          v1.entryId,
        ]),
      );
      expect(count!.n).toBe(2);
    });

    it('frees its slug and title for a new entry of the scope', async () => {
      const next = await f.publish(f.reviewer, { title, slug, content: 'Keys rotate automatically now.' });
      expect(next.entryId).not.toBe(v1.entryId);
      expect((await f.as(f.agent(f.dev), (tx) => tx.wiki.getBySlug({ slug }))).entryId).toBe(next.entryId);
      expect(
        (
          await f.as(f.agent(f.dev), (tx) =>
            tx.wiki.search({ query: 'keys rotate' }).then(({ items }) => items),
          )
        ).map((hit) => hit.entryId),
      ).toEqual([next.entryId]);
      // Two live entries still may not share it.
      const clash = await caught(
        f.as(f.agent(f.lead), (tx) => tx.wiki.propose({ title: 'Another', slug, content: 'x' })),
      );
      expect((clash as ConflictError).code).toBe('duplicate');
    });

    it('writes an audit row per version naming the human who deleted, and no wiki_contribution event', async () => {
      const { v1: first, v2: second } = await entryWithPendingEdit('audited-delete');
      const events = () =>
        h.asOwner((c) =>
          c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'wiki_contribution'`,
            [f.tenant.id],
          ),
        );
      const [eventsBefore] = await events();
      await f.as(f.user(f.manager), (tx) => tx.wiki.delete(first.entryId));
      const audit = await h.asOwner((c) =>
        c.query<{ row_id: string; actor_type: string; actor_id: string; action: string }>(
          `SELECT row_id, actor_type, actor_id, action FROM audit_logs
            WHERE tenant_id = $1 AND table_name = 'wiki_entries' AND row_id = ANY($2::text[])
              AND action = 'update' AND new_values ->> 'deleted_at' IS NOT NULL
            ORDER BY row_id`,
          [f.tenant.id, [first.id, second.id]],
        ),
      );
      expect(audit).toEqual(
        [first.id, second.id]
          .sort()
          .map((id) => ({ row_id: id, actor_type: 'user', actor_id: f.manager, action: 'update' })),
      );
      const [eventsAfter] = await events();
      expect(eventsAfter!.n).toBe(eventsBefore!.n);
    });
  });

  describe('purge', () => {
    it('lets the service role remove a deleted entry for good, never a live one; tenant work never removes', async () => {
      const live = await entryWithPendingEdit('purge-live');
      const gone = await entryWithPendingEdit('purge-deleted');
      await f.as(f.actor, (tx) => tx.wiki.delete(gone.v1.entryId));
      const purge = (entryId: string) =>
        h.store.asService({ actor: 'test' }, (svc) =>
          svc.query('DELETE FROM wiki_entries WHERE tenant_id = $1 AND entry_id = $2', [
            f.tenant.id,
            entryId,
          ]),
        );
      expect(await caught(purge(live.v1.entryId))).toBeInstanceOf(ForbiddenError);
      expect(
        await caught(
          f.as(f.actor, (tx) => tx.query('DELETE FROM wiki_entries WHERE entry_id = $1', [gone.v1.entryId])),
        ),
      ).toBeInstanceOf(ForbiddenError);
      expect(await deletedAt(gone.v1.entryId)).toHaveLength(2);
      await purge(gone.v1.entryId);
      expect(await deletedAt(gone.v1.entryId)).toEqual([]);
      expect(await pageDeletedAt(gone.v1.entryId)).toBeUndefined();
      expect(await deletedAt(live.v1.entryId)).toHaveLength(2);
    });
  });
});
