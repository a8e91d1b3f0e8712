import { beforeAll, expect, it } from 'vitest';
import { type Actor, NotFoundError, type WikiEntry } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught } from '../harness/fixtures.ts';
import { createWikiTenant, type WikiFixture } from './wiki-fixtures.ts';

/**
 * Who sees which version, enforced by row-level security: checked through the repository and
 * through raw SQL as agentflow_app (tx.query runs as that role, under the same policies).
 */
describeEachEngine('wiki visibility', (h) => {
  let f: WikiFixture;
  let other: WikiFixture;
  // Approved: a tenant-wide entry, one of project web, one of project api.
  let tenantWide: WikiEntry;
  let webOnly: WikiEntry;
  let apiOnly: WikiEntry;
  // The lead's proposals in each state but approved.
  let draft: WikiEntry;
  let pending: WikiEntry;
  let rejected: WikiEntry;
  // A draft edit of the tenant-wide entry, by the reviewer.
  let edit: WikiEntry;
  let viewers: Record<string, Actor>;

  beforeAll(async () => {
    f = await createWikiTenant(h);
    other = await createWikiTenant(h);
    tenantWide = await f.publish(f.lead, {
      title: 'Security policy',
      slug: 'security-policy',
      content: 'Rotate keys.',
    });
    webOnly = await f.publish(f.lead, {
      title: 'Web release steps',
      slug: 'web-release',
      content: 'Build the bundle.',
      projectId: f.projectId,
    });
    apiOnly = await f.publish(f.reviewer, {
      title: 'API rate limits',
      slug: 'api-rate-limits',
      content: 'Ten requests a second.',
      projectId: f.otherProjectId,
    });
    draft = await f.as(f.agent(f.lead), (tx) =>
      tx.wiki.propose({ title: 'Draft idea', slug: 'draft-idea', content: 'Unfinished thought.' }),
    );
    pending = await f.as(f.agent(f.lead), (tx) =>
      tx.wiki.propose({
        title: 'Pending web idea',
        slug: 'pending-idea',
        content: 'Waiting.',
        projectId: f.projectId,
        submit: true,
      }),
    );
    const toReject = await f.as(f.agent(f.lead), (tx) =>
      tx.wiki.propose({ title: 'Bad idea', slug: 'bad-idea', content: 'No.', submit: true }),
    );
    rejected = await f.as(f.actor, (tx) => tx.wiki.reject(toReject.id, { reason: 'Not our practice' }));
    edit = await f.as(f.agent(f.reviewer), (tx) =>
      tx.wiki.edit(tenantWide.entryId, { content: 'Rotate keys every 90 days.' }),
    );
    // Another tenant's approved entry, to be sure nothing crosses.
    await other.publish(other.lead, {
      title: 'Security policy',
      slug: 'security-policy',
      content: 'Theirs.',
    });
    viewers = {
      proposingAgent: f.agent(f.lead),
      otherOrgAgent: f.agent(f.reviewer),
      webAgent: f.agent(f.dev),
      apiAgent: f.agent(f.apiDev),
      owner: f.actor,
      manager: f.user(f.manager),
      plainMember: f.user(f.member),
    };
  });

  const all = () => ({ tenantWide, webOnly, apiOnly, draft, pending, rejected, edit });
  const approvedNames = ['tenantWide', 'webOnly', 'apiOnly'];
  const expected: Record<string, string[]> = {
    proposingAgent: [...approvedNames, 'draft', 'pending', 'rejected'],
    otherOrgAgent: [...approvedNames, 'edit'],
    webAgent: ['tenantWide', 'webOnly'],
    apiAgent: ['tenantWide', 'apiOnly'],
    owner: [...approvedNames, 'draft', 'pending', 'rejected', 'edit'],
    manager: [...approvedNames, 'draft', 'pending', 'rejected', 'edit'],
    plainMember: approvedNames,
  };

  it('shows each viewer exactly its versions, through the repository and raw SQL as agentflow_app', async () => {
    for (const [viewer, actor] of Object.entries(viewers)) {
      const versions = all();
      const want = expected[viewer]!.map((name) => versions[name as keyof typeof versions].id).sort();
      const listed = await f.as(actor, (tx) => tx.wiki.list({ limit: 1000 }));
      expect(listed.items.map((v) => v.id).sort(), viewer).toEqual(want);
      const raw = await f.as(actor, (tx) => tx.query<{ id: string }>('SELECT id FROM wiki_entries'));
      expect(raw.map((r) => r.id).sort(), `${viewer} (raw SQL)`).toEqual(want);
      for (const [name, version] of Object.entries(versions)) {
        const read = await caught(f.as(actor, (tx) => tx.wiki.getVersion(version.id)));
        if (expected[viewer]!.includes(name)) expect(read, `${viewer} reads ${name}`).toBeUndefined();
        else expect(read, `${viewer} must not read ${name}`).toBeInstanceOf(NotFoundError);
      }
    }
  });

  it('shows current entries (wiki_pages) to the agents of their scope only', async () => {
    const pages = (actor: Actor) =>
      f.as(actor, async (tx) =>
        (await tx.query<{ id: string }>('SELECT id FROM wiki_pages')).map((r) => r.id).sort(),
      );
    const scoped = { tenantWide, webOnly, apiOnly };
    for (const [viewer, actor] of Object.entries(viewers)) {
      const want = Object.entries(scoped)
        .filter(
          ([name]) =>
            expected[viewer]!.includes(name) ||
            ['owner', 'manager', 'plainMember', 'otherOrgAgent', 'proposingAgent'].includes(viewer),
        )
        .map(([, v]) => v.entryId)
        .sort();
      expect(await pages(actor), viewer).toEqual(want);
    }
    await expect(f.as(viewers.apiAgent!, (tx) => tx.wiki.get(webOnly.entryId))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(f.as(viewers.apiAgent!, (tx) => tx.wiki.view(webOnly.entryId))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      f.as(viewers.webAgent!, (tx) =>
        tx.wiki.getBySlug({ slug: 'api-rate-limits', projectId: f.otherProjectId }),
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await f.as(viewers.webAgent!, (tx) => tx.wiki.get(webOnly.entryId))).id).toBe(webOnly.id);
    // Search honours the same scope: the api agent does not find the web entry.
    expect(
      await f.as(viewers.apiAgent!, (tx) => tx.wiki.search({ query: 'bundle' }).then(({ items }) => items)),
    ).toEqual([]);
    expect(
      (
        await f.as(viewers.webAgent!, (tx) => tx.wiki.search({ query: 'bundle' }).then(({ items }) => items))
      ).map((v) => v.id),
    ).toEqual([webOnly.id]);
    // Nor does anyone find a draft, pending or rejected version, even its proposer or an approver.
    for (const actor of [viewers.proposingAgent!, viewers.owner!]) {
      expect(
        await f.as(actor, (tx) => tx.wiki.search({ query: 'unfinished thought' }).then(({ items }) => items)),
      ).toEqual([]);
      expect(
        await f.as(actor, (tx) => tx.wiki.search({ query: 'waiting' }).then(({ items }) => items)),
      ).toEqual([]);
    }
  });

  it('shows the history of an entry by the same rules', async () => {
    const history = async (actor: Actor) =>
      (await f.as(actor, (tx) => tx.wiki.history(tenantWide.entryId))).items.map((v) => v.version);
    expect(await history(viewers.otherOrgAgent!)).toEqual([2, 1]);
    expect(await history(viewers.owner!)).toEqual([2, 1]);
    expect(await history(viewers.proposingAgent!)).toEqual([1]);
    expect(await history(viewers.apiAgent!)).toEqual([1]);
    expect(await caught(f.as(viewers.apiAgent!, (tx) => tx.wiki.history(webOnly.entryId)))).toBeInstanceOf(
      NotFoundError,
    );
    // A diff needs both versions visible.
    expect(
      await caught(f.as(viewers.plainMember!, (tx) => tx.wiki.diff({ from: tenantWide.id, to: edit.id }))),
    ).toBeInstanceOf(NotFoundError);
  });

  it('shows another tenant nothing, whoever asks', async () => {
    for (const actor of [other.actor, other.agent(other.lead), other.agent(other.dev)]) {
      const seen = await other.as(actor, (tx) =>
        tx.query<{ id: string; tenant_id: string }>('SELECT id, tenant_id FROM wiki_entries'),
      );
      expect(seen.every((r) => r.tenant_id === other.tenant.id)).toBe(true);
      expect(seen.some((r) => r.id === tenantWide.id)).toBe(false);
      await expect(other.as(actor, (tx) => tx.wiki.get(tenantWide.entryId))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      const found = await other.as(actor, (tx) =>
        tx.wiki.search({ query: 'security policy' }).then(({ items }) => items),
      );
      expect(found.every((v) => v.tenantId === other.tenant.id)).toBe(true);
    }
  });
});
