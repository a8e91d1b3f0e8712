import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: KPIs', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let measured: Awaited<ReturnType<typeof agentWithKey>>;
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const kpisOf = (agentId: string) => ownerCount(h, 'kpis WHERE agent_id = $1', [agentId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    measured = await agentWithKey(h.store, a.tenant.id);
  });
  afterAll(() => api?.close());

  it('records KPIs at the times given, pages an agent’s history and the latest, and recomputes its trust score', async () => {
    const record = (minutes: number, codeQualityScore: number) =>
      call(api.app, 'POST', '/v1/kpis', {
        key: a.agent.key,
        body: {
          agentId: measured.agentId,
          recordedAt: minutesAgo(minutes),
          metrics: { codeQualityScore, tasksCompleted: 3 },
          changeReason: 'sprint review',
        },
      });
    const older = await record(10, 60);
    expect(older.statusCode).toBe(201);
    const first = json(older);
    const newer = json(await record(5, 90));
    expect(newer).toMatchObject({
      agentId: measured.agentId,
      metrics: { codeQualityScore: 90, tasksCompleted: 3 },
      trend: { previousId: first.id, overall: 'improving' },
    });
    expect(
      await ownerCount(h, `events WHERE type = 'kpi_updated' AND payload->>'agentId' = $1`, [
        measured.agentId,
      ]),
    ).toBe(2);
    expect(json(await call(api.app, 'GET', `/v1/kpis/${first.id}`, { key: measured.key }))).toEqual(first);

    const history = `/v1/agents/${measured.agentId}/kpis?limit=1`;
    const page1 = json(await call(api.app, 'GET', history, { key: a.agent.key }));
    expect(page1).toMatchObject({ items: [{ id: newer.id }], nextCursor: expect.any(String) });
    const page2 = json(
      await call(api.app, 'GET', `${history}&cursor=${page1.nextCursor}`, { key: a.agent.key }),
    );
    expect(page2).toMatchObject({ items: [{ id: first.id }], nextCursor: null });
    const latest = json<{ items: { id: string; agentId: string }[] }>(
      await call(api.app, 'GET', '/v1/kpis?limit=1000', { key: a.agent.key }),
    );
    expect(latest.items.filter((row) => row.agentId === measured.agentId).map((row) => row.id)).toEqual([
      newer.id,
    ]);

    const recomputed = await call(api.app, 'POST', `/v1/agents/${measured.agentId}/trust-score/recompute`, {
      key: a.agent.key,
    });
    expect(recomputed.statusCode).toBe(200);
    const change = json<{ new: string }>(recomputed);
    expect(change).toMatchObject({
      agentId: measured.agentId,
      previous: '50.00',
      formulaVersion: 'trust-v1',
      records: 2,
    });
    expect(change.new).toMatch(/^\d{1,3}\.\d\d$/);
    expect(
      await ownerCount(h, 'agents WHERE id = $1 AND trust_score = $2', [measured.agentId, change.new]),
    ).toBe(1);
  });

  it('answers another tenant’s ids with 404, bad input with 422 and an old record with 409, writing nothing', async () => {
    const theirs = json(
      await call(api.app, 'POST', '/v1/kpis', {
        key: b.agent.key,
        body: { agentId: b.agent.agentId, metrics: { bugsIntroduced: 1 } },
      }),
    );
    expect((await call(api.app, 'GET', `/v1/kpis/${theirs.id}`, { key: a.agent.key })).statusCode).toBe(404);
    const forTheirs = await call(api.app, 'POST', '/v1/kpis', {
      key: a.agent.key,
      body: { agentId: b.agent.agentId, metrics: { codeChurn: 2 } },
    });
    expect(json(forTheirs)).toMatchObject({ status: 404, entity: 'agent' });
    const recompute = await call(api.app, 'POST', `/v1/agents/${b.agent.agentId}/trust-score/recompute`, {
      key: a.agent.key,
    });
    expect(recompute.statusCode).toBe(404);
    const history = await call(api.app, 'GET', `/v1/agents/${b.agent.agentId}/kpis`, { key: a.agent.key });
    expect(json(history)).toEqual({ items: [], nextCursor: null });
    expect(await kpisOf(b.agent.agentId)).toBe(1);

    const before = await kpisOf(measured.agentId);
    const bad = await call(api.app, 'POST', '/v1/kpis', {
      key: a.agent.key,
      body: { agentId: measured.agentId, recordedAt: 'yesterday', metrics: { codeQualityScore: 101 } },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['metrics.codeQualityScore', 'recordedAt']);
    const old = await call(api.app, 'POST', '/v1/kpis', {
      key: a.agent.key,
      body: { agentId: measured.agentId, recordedAt: minutesAgo(60), metrics: { codeChurn: 1 } },
    });
    expect(json(old)).toMatchObject({ status: 409, type: 'out_of_order' });
    expect(await kpisOf(measured.agentId)).toBe(before);
  });
});
