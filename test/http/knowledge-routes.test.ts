import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { createTask } from '../knowledge/knowledge-fixtures.ts';
import { type ApiHarness, call, json, ownerToken, startApi, tenantWithAgent } from './api-fixtures.ts';

interface LessonBody {
  id: string;
  applicationCount: number;
  successRate: number | null;
  humanValidated: boolean;
  validatedBy: string | null;
}

describeEachEngine('HTTP API: lessons, self-reviews, patterns', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let owner: string;
  let taskId: string;
  let projectId: string;
  let lessonId: string;
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    owner = await ownerToken(api, a);
    const project = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/projects', { key: a.agent.key, body: { slug: 'web', name: 'Web' } }),
    );
    projectId = project.id;
    taskId = await createTask(h, a.tenant.id, project.id);
    const created = await call(api.app, 'POST', '/v1/lessons', {
      key: a.agent.key,
      body: {
        category: 'database',
        title: 'Take advisory locks in a fixed order',
        summary: 'Workers locking keys in different orders deadlock.',
        tags: ['postgres', 'Locks'],
        sourceAgentType: 'backend_dev',
        sourceAgentId: a.agent.agentId,
        taskId,
      },
    });
    expect(created.statusCode).toBe(201);
    lessonId = json<LessonBody>(created).id;
  });
  afterAll(() => api?.close());

  it('searches, applies, records outcomes, and validates a lesson as a human only', async () => {
    const found = json<{ items: Array<{ id: string; rank: number; tags: string[] }> }>(
      await call(
        api.app,
        'GET',
        '/v1/lessons/search?query=deadlock%20workers&tags=postgres,locks&tagMatch=all',
        {
          key: a.agent.key,
        },
      ),
    );
    expect(found.items.map((l) => l.id)).toEqual([lessonId]);
    expect(found.items[0]).toMatchObject({ tags: ['postgres', 'locks'], rank: expect.any(Number) });
    expect(found.items[0]).not.toHaveProperty('searchVector');
    expect(
      json(await call(api.app, 'GET', '/v1/lessons/search?query=deadlock', { key: b.agent.key })),
    ).toEqual({
      items: [],
      nextCursor: null,
    });

    const url = `/v1/lessons/${lessonId}`;
    expect(
      json<LessonBody>(await call(api.app, 'POST', `${url}/applications`, { key: a.agent.key }))
        .applicationCount,
    ).toBe(1);
    await call(api.app, 'POST', `${url}/outcomes`, { key: a.agent.key, body: { outcome: true } });
    const moved = json<LessonBody>(
      await call(api.app, 'POST', `${url}/outcomes`, { key: a.agent.key, body: { outcome: 0.5 } }),
    );
    expect(moved.successRate).toBeCloseTo(0.9, 12);

    const byAgent = await call(api.app, 'POST', `${url}/validation`, {
      key: a.agent.key,
      body: { validated: true },
    });
    expect(byAgent.statusCode).toBe(403);
    expect(json(byAgent)).toMatchObject({ type: 'permission_denied' });
    const byOwner = await call(api.app, 'POST', `${url}/validation`, {
      key: owner,
      body: { validated: true },
    });
    expect(byOwner.statusCode).toBe(200);
    expect(json<LessonBody>(byOwner)).toMatchObject({ humanValidated: true, validatedBy: a.owner.id });

    const patched = await call(api.app, 'PATCH', url, { key: a.agent.key, body: { confidence: 0.9 } });
    expect(json(patched)).toMatchObject({ confidence: 0.9, humanValidated: true });
    const listed = json<{ items: Array<{ id: string }> }>(
      await call(api.app, 'GET', '/v1/lessons?category=database&humanValidated=true', { key: a.agent.key }),
    );
    expect(listed.items.map((l) => l.id)).toEqual([lessonId]);
  });

  it('answers 404 for another tenant’s or a deleted lesson, 422 for bad input with nothing written', async () => {
    const theirs = `/v1/lessons/${lessonId}`;
    for (const [method, path, body] of [
      ['GET', theirs, undefined],
      ['POST', `${theirs}/applications`, undefined],
      ['POST', `${theirs}/outcomes`, { outcome: false }],
      ['DELETE', theirs, undefined],
    ] as const) {
      const response = await call(api.app, method, path, { key: b.agent.key, body });
      expect(response.statusCode, `${method} ${path}`).toBe(404);
    }
    const before = await ownerCount(h, 'lessons WHERE tenant_id = $1', [a.tenant.id]);
    const bad = await call(api.app, 'POST', '/v1/lessons', {
      key: a.agent.key,
      body: {
        category: 'Bad Category',
        title: '',
        summary: 's',
        sourceAgentType: 'backend_dev',
        confidence: 3,
      },
    });
    expect(bad.statusCode).toBe(422);
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['category', 'confidence', 'title']);
    const badOutcome = await call(api.app, 'POST', `/v1/lessons/${lessonId}/outcomes`, {
      key: a.agent.key,
      body: { outcome: 2 },
    });
    expect(badOutcome.statusCode).toBe(422);
    expect(await ownerCount(h, 'lessons WHERE tenant_id = $1', [a.tenant.id])).toBe(before);

    const doomed = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/lessons', {
        key: a.agent.key,
        body: { category: 'x', title: 'Doomed', summary: 'To delete', sourceAgentType: 'tester' },
      }),
    );
    expect((await call(api.app, 'DELETE', `/v1/lessons/${doomed.id}`, { key: a.agent.key })).statusCode).toBe(
      204,
    );
    expect((await call(api.app, 'GET', `/v1/lessons/${doomed.id}`, { key: a.agent.key })).statusCode).toBe(
      404,
    );
  });

  it('records self-reviews once per iteration (409), the latest, and score trends', async () => {
    const executionId = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/task-executions', {
        key: a.agent.key,
        body: { taskId, status: 'running' },
      }),
    ).id;
    const body = (iteration: number, overallScore: number) => ({
      taskId,
      executionId,
      iteration,
      agentType: 'backend_dev',
      qualityScore: overallScore,
      completenessScore: overallScore,
      correctnessScore: overallScore,
      overallScore,
      gaps: ['error path untested'],
      decision: iteration === 2 ? 'accept' : 'iterate',
    });
    expect(
      (await call(api.app, 'POST', '/v1/self-reviews', { key: a.agent.key, body: body(1, 0.6) })).statusCode,
    ).toBe(201);
    const second = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/self-reviews', { key: a.agent.key, body: body(2, 0.9) }),
    );
    const again = await call(api.app, 'POST', '/v1/self-reviews', { key: a.agent.key, body: body(2, 1) });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ type: 'duplicate' });
    const latest = await call(api.app, 'GET', `/v1/self-reviews/latest?executionId=${executionId}`, {
      key: a.agent.key,
    });
    expect(json(latest)).toMatchObject({ id: second.id, iteration: 2, decision: 'accept' });
    expect((await call(api.app, 'GET', '/v1/self-reviews/latest', { key: a.agent.key })).statusCode).toBe(
      422,
    );
    expect(
      (await call(api.app, 'GET', `/v1/self-reviews/latest?executionId=${executionId}`, { key: b.agent.key }))
        .statusCode,
    ).toBe(404);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const trends = json<Array<{ agentType: string; reviews: number; overallScore: number }>>(
      await call(api.app, 'GET', `/v1/self-reviews/trends?from=${from}&to=${to}&bucket=week`, {
        key: a.agent.key,
      }),
    );
    expect(trends).toEqual([
      expect.objectContaining({
        agentType: 'backend_dev',
        reviews: 2,
        overallScore: expect.closeTo(0.75, 12),
      }),
    ]);
    expect(
      json<{ items: unknown[] }>(
        await call(api.app, 'GET', `/v1/self-reviews?taskId=${taskId}`, { key: a.agent.key }),
      ).items,
    ).toHaveLength(2);
    expect(
      (await call(api.app, 'GET', `/v1/self-reviews/${second.id}`, { key: a.agent.key })).statusCode,
    ).toBe(200);
  });

  it('records a pattern again as the same row, most frequent first', async () => {
    const body = {
      patternType: 'recurring_error',
      agentType: 'tester',
      key: 'Flaky timeout',
      description: 'd',
    };
    const first = json<{ id: string; frequency: number }>(
      await call(api.app, 'POST', '/v1/patterns', { key: a.agent.key, body }),
    );
    const again = json<{ id: string; frequency: number }>(
      await call(api.app, 'POST', '/v1/patterns', {
        key: a.agent.key,
        body: { ...body, key: 'flaky  TIMEOUT' },
      }),
    );
    expect(again).toMatchObject({ id: first.id, frequency: 2 });
    const page = json<{ items: Array<{ id: string }> }>(
      await call(api.app, 'GET', '/v1/patterns?agentType=tester', { key: a.agent.key }),
    );
    expect(page.items.map((p) => p.id)).toEqual([first.id]);
    expect((await call(api.app, 'GET', `/v1/patterns/${first.id}`, { key: b.agent.key })).statusCode).toBe(
      404,
    );
    expect(
      (await call(api.app, 'POST', '/v1/patterns', { key: a.agent.key, body: { ...body, key: '' } }))
        .statusCode,
    ).toBe(422);
  });

  it("cites evidence in an open run, lists a run's evidence most credible first and the runs citing evidence", async () => {
    const evidenceIds: string[] = [];
    for (const credibility of [0.4, 0.9]) {
      const created = await call(api.app, 'POST', '/v1/evidence', {
        key: a.agent.key,
        body: {
          projectId,
          taskId,
          sourceType: 'test_result',
          title: `Run ${credibility}`,
          content: 'ok',
          credibility,
        },
      });
      expect(created.statusCode).toBe(201);
      evidenceIds.push(json<{ id: string }>(created).id);
    }
    const run = json<{ id: string }>(
      await call(api.app, 'POST', '/v1/task-executions', {
        key: a.agent.key,
        body: { taskId, status: 'running' },
      }),
    );
    for (const evidenceId of evidenceIds) {
      const cited = await call(api.app, 'POST', `/v1/task-executions/${run.id}/evidence`, {
        key: a.agent.key,
        body: { evidenceId, note: 'the suite passed' },
      });
      expect(cited.statusCode).toBe(201);
      expect(json(cited)).toMatchObject({ executionId: run.id, evidenceId, citedByAgentId: a.agent.agentId });
    }
    const page = json<{
      items: Array<{ id: string; credibility: string; note: string }>;
      nextCursor: string | null;
    }>(await call(api.app, 'GET', `/v1/task-executions/${run.id}/evidence?limit=1`, { key: a.agent.key }));
    expect(page.items).toEqual([
      expect.objectContaining({ id: evidenceIds[1], credibility: '0.900', note: 'the suite passed' }),
    ]);
    const rest = json<{ items: Array<{ id: string }> }>(
      await call(api.app, 'GET', `/v1/task-executions/${run.id}/evidence?limit=1&cursor=${page.nextCursor}`, {
        key: a.agent.key,
      }),
    );
    expect(rest.items.map((e) => e.id)).toEqual([evidenceIds[0]]);
    const runs = json<{ items: Array<{ id: string; taskId: string; citedAt: string }> }>(
      await call(api.app, 'GET', `/v1/evidence/${evidenceIds[0]}/runs`, { key: a.agent.key }),
    );
    expect(runs.items).toEqual([expect.objectContaining({ id: run.id, taskId })]);
    // Another tenant sees neither the run nor the evidence; an unknown run is 404; bad input 422.
    for (const url of [`/v1/task-executions/${run.id}/evidence`, `/v1/evidence/${evidenceIds[0]}/runs`]) {
      expect((await call(api.app, 'GET', url, { key: b.agent.key })).statusCode, url).toBe(404);
    }
    expect(
      (
        await call(api.app, 'POST', `/v1/task-executions/${randomUUID()}/evidence`, {
          key: a.agent.key,
          body: { evidenceId: evidenceIds[0] },
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await call(api.app, 'POST', `/v1/task-executions/${run.id}/evidence`, {
          key: a.agent.key,
          body: { evidenceId: 'nope' },
        })
      ).statusCode,
    ).toBe(422);
    // A finished run gains no citation.
    await call(api.app, 'POST', `/v1/task-executions/${run.id}/finish`, {
      key: a.agent.key,
      body: { status: 'success' },
    });
    const late = await call(api.app, 'POST', `/v1/task-executions/${run.id}/evidence`, {
      key: a.agent.key,
      body: { evidenceId: evidenceIds[0], note: 'again' },
    });
    expect(late.statusCode).toBe(409);
    expect(json(late)).toMatchObject({ type: 'execution_finished' });
  });
});
