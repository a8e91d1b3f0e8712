import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: agent state', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let project: string;
  let otherProject: string;
  const url = (projectId: string) => `/v1/projects/${projectId}/agent-state`;
  const stored = () => h.store.withTenant(a.context, (tx) => tx.agentStates.get(project));
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    project = (await h.store.withTenant(a.context, (tx) => tx.projects.create({ slug: 'p', name: 'P' }))).id;
    otherProject = (await h.store.withTenant(b.context, (tx) => tx.projects.create({ slug: 'p', name: 'P' })))
      .id;
    await h.store.withTenant(b.context, (tx) =>
      tx.agentStates.save({ projectId: otherProject, state: { owner: 'b' }, expectedVersion: null }),
    );
  });
  afterAll(() => api?.close());

  it('creates the state, then writes only over the version read (409 otherwise)', async () => {
    expect((await call(api.app, 'GET', url(project), { key: a.agent.key })).statusCode).toBe(404);
    const put = (state: Record<string, unknown>, expectedVersion: number | null) =>
      call(api.app, 'PUT', url(project), { key: a.agent.key, body: { state, expectedVersion } });
    const created = await put({ step: 1 }, null);
    expect(created.statusCode).toBe(200);
    expect(json(created)).toMatchObject({ projectId: project, state: { step: 1 }, version: 1 });
    expect(json(await put({ step: 2 }, 1))).toMatchObject({ version: 2 });
    const stale = await put({ step: 'lost' }, 1);
    expect(stale.statusCode).toBe(409);
    expect(json(stale)).toMatchObject({ type: 'stale_version' });
    const read = await call(api.app, 'GET', url(project), { key: a.agent.key });
    expect(json(read)).toMatchObject({ state: { step: 2 }, version: 2 });
  });

  it('honours If-Match besides expectedVersion: a stale ETag is 412 and writes nothing', async () => {
    const read = await call(api.app, 'GET', url(project), { key: a.agent.key });
    const etag = read.headers.etag as string;
    const { version } = json<{ version: number }>(read);
    const next = await call(api.app, 'PUT', url(project), {
      key: a.agent.key,
      body: { state: { step: 3 }, expectedVersion: version },
      headers: { 'if-match': etag },
    });
    expect(next.statusCode).toBe(200);
    const stale = await call(api.app, 'PUT', url(project), {
      key: a.agent.key,
      body: { state: { step: 'lost' }, expectedVersion: version + 1 },
      headers: { 'if-match': etag },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ type: 'precondition_failed' });
    expect(await stored()).toMatchObject({ state: { step: 3 }, version: version + 1 });
  });

  it('names the bad field of a body in a 422', async () => {
    for (const [body, field] of [
      [{ state: { x: 1 } }, 'expectedVersion'],
      [{ state: [1], expectedVersion: 3 }, 'state'],
      [{ state: {}, expectedVersion: 3, projectId: project }, '(input)'],
    ] as const) {
      const response = await call(api.app, 'PUT', url(project), { key: a.agent.key, body });
      expect(response.statusCode).toBe(422);
      expect(json(response)).toMatchObject({ errors: [{ path: field }] });
    }
    expect((await stored()).version).toBe(3);
  });

  it('answers 404 for another tenant’s project and writes nothing', async () => {
    expect((await call(api.app, 'GET', url(otherProject), { key: a.agent.key })).statusCode).toBe(404);
    for (const expectedVersion of [null, 1]) {
      const response = await call(api.app, 'PUT', url(otherProject), {
        key: a.agent.key,
        body: { state: { owner: 'a' }, expectedVersion },
      });
      expect(response.statusCode).toBe(404);
    }
    expect(await ownerCount(h, 'agent_states WHERE project_id = $1', [otherProject])).toBe(1);
    expect(await ownerCount(h, `agent_states WHERE state->>'owner' = 'a'`)).toBe(0);
  });
});
