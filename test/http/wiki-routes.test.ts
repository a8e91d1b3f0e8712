import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import {
  type ApiHarness,
  agentWithKey,
  call,
  json,
  ownerToken,
  startApi,
  tenantWithAgent,
} from './api-fixtures.ts';

interface Version {
  id: string;
  entryId: string;
  version: number;
  status: string;
}

describeEachEngine('HTTP API: wiki', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let owner: string;
  const headers = () => ({ authorization: `Bearer ${owner}` });
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    owner = await ownerToken(api, a);
  });
  afterAll(() => api?.close());

  it('proposes as an organization agent, approves as the owner, searches, views and diffs', async () => {
    const proposed = await call(api.app, 'POST', '/v1/wiki/entries', {
      key: a.agent.key,
      body: { title: 'Release checklist', slug: 'release-checklist', content: 'Tag.\nDeploy.', submit: true },
    });
    expect(proposed.statusCode).toBe(201);
    const v1 = json<Version>(proposed);
    expect(v1).toMatchObject({ version: 1, status: 'pending_approval' });
    const approved = await call(api.app, 'POST', `/v1/wiki/versions/${v1.id}/approve`, {
      headers: headers(),
    });
    expect(json(approved)).toMatchObject({ status: 'approved' });

    const edit = await call(api.app, 'POST', `/v1/wiki/entries/${v1.entryId}/versions`, {
      key: a.agent.key,
      body: { content: 'Tag.\nDeploy.\nAnnounce.' },
    });
    expect(edit.statusCode).toBe(201);
    const v2 = json<Version>(edit);
    // A second open proposal of the entry: 409.
    expect(
      json(
        await call(api.app, 'POST', `/v1/wiki/entries/${v1.entryId}/versions`, {
          key: a.agent.key,
          body: { title: 'Other' },
        }),
      ),
    ).toMatchObject({ status: 409, type: 'proposal_open' });
    const diff = await call(api.app, 'GET', `/v1/wiki/diff?from=${v1.id}&to=${v2.id}`, { key: a.agent.key });
    expect(json(diff)).toMatchObject({ added: 1, removed: 0 });

    const search = await call(api.app, 'GET', '/v1/wiki/search?query=release%20checklist', {
      key: a.agent.key,
    });
    expect(search.statusCode).toBe(200);
    expect(json<{ items: Version[]; nextCursor: string | null }>(search)).toMatchObject({
      items: [{ id: v1.id }],
      nextCursor: null,
    });
    const viewed = await call(api.app, 'POST', `/v1/wiki/entries/${v1.entryId}/views`, { key: a.agent.key });
    expect(json(viewed)).toMatchObject({ id: v1.id, viewCount: 1 });
    const history = await call(api.app, 'GET', `/v1/wiki/entries/${v1.entryId}/versions`, {
      headers: headers(),
    });
    expect(json<{ items: Version[] }>(history).items.map((v) => v.version)).toEqual([2, 1]);
  });

  it('deletes an entry softly as the owner (204), 403 to an agent, then 404 to reading and deleting it', async () => {
    const proposed = json<Version>(
      await call(api.app, 'POST', '/v1/wiki/entries', {
        key: a.agent.key,
        body: { title: 'Old runbook', slug: 'old-runbook', content: 'Obsolete.', submit: true },
      }),
    );
    await call(api.app, 'POST', `/v1/wiki/versions/${proposed.id}/approve`, { headers: headers() });
    const path = `/v1/wiki/entries/${proposed.entryId}`;
    const byAgent = await call(api.app, 'DELETE', path, { key: a.agent.key });
    expect(byAgent.statusCode).toBe(403);
    expect((await call(api.app, 'GET', path, { key: a.agent.key })).statusCode).toBe(200);
    expect((await call(api.app, 'DELETE', path, { headers: headers() })).statusCode).toBe(204);
    expect((await call(api.app, 'GET', path, { key: a.agent.key })).statusCode).toBe(404);
    expect(
      (await call(api.app, 'GET', '/v1/wiki/by-slug?slug=old-runbook', { headers: headers() })).statusCode,
    ).toBe(404);
    expect((await call(api.app, 'DELETE', path, { headers: headers() })).statusCode).toBe(404);
    // Its history stays readable to the owner, who may approve.
    const history = await call(api.app, 'GET', `${path}/versions`, { headers: headers() });
    expect(json<{ items: (Version & { deletedAt: string | null })[] }>(history).items).toMatchObject([
      { id: proposed.id, deletedAt: expect.any(String) },
    ]);
  });

  it('answers 403 to a project agent proposing, 404 for an unknown entry, 422 for bad input, writing nothing', async () => {
    const projectId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'web', name: 'Web' } }),
    ).id;
    const dev = await agentWithKey(h.store, a.tenant.id, { projectId });
    const before = await ownerCount(h, 'wiki_entries WHERE tenant_id = $1', [a.tenant.id]);
    const forbidden = await call(api.app, 'POST', '/v1/wiki/entries', {
      key: dev.key,
      body: { title: 'Mine', slug: 'mine', content: 'x' },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(
      (await call(api.app, 'GET', `/v1/wiki/entries/${randomUUID()}`, { key: a.agent.key })).statusCode,
    ).toBe(404);
    const bad = await call(api.app, 'POST', '/v1/wiki/entries', {
      key: a.agent.key,
      body: { title: 'Bad', slug: 'Bad Slug', content: 'x' },
    });
    expect(bad.statusCode).toBe(422);
    const noReason = await call(api.app, 'POST', `/v1/wiki/versions/${randomUUID()}/reject`, {
      headers: headers(),
      body: {},
    });
    expect(noReason.statusCode).toBe(422);
    expect(await ownerCount(h, 'wiki_entries WHERE tenant_id = $1', [a.tenant.id])).toBe(before);
  });
});
