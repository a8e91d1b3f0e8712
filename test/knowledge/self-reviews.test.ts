import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  type CreateSelfReviewInput,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createKnowledgeTenant, createTask, type KnowledgeFixture } from './knowledge-fixtures.ts';

describeEachEngine('self-reviews', (h) => {
  let f: KnowledgeFixture;
  let other: KnowledgeFixture;
  const review = (overrides: Partial<CreateSelfReviewInput> = {}): CreateSelfReviewInput => ({
    taskId: f.taskId,
    iteration: 1,
    agentType: 'backend_dev',
    agentId: f.agentId,
    qualityScore: 0.8,
    completenessScore: 0.7,
    correctnessScore: 0.9,
    overallScore: 0.8,
    decision: 'iterate',
    ...overrides,
  });
  const reviewsOf = (taskId: string) => ownerCount(h, 'self_reviews WHERE task_id = $1', [taskId]);

  beforeAll(async () => {
    f = await createKnowledgeTenant(h);
    other = await createKnowledgeTenant(h);
  });

  it('records a review with its gaps and requirements, and reads it back', async () => {
    const executionId = await f.run();
    const row = await f.asAgentDo((tx) =>
      tx.selfReviews.create(
        review({
          executionId,
          gaps: ['no test for the empty list', { text: 'error path', severity: 'high' }],
          requirements: [{ text: 'returns 404', met: true }],
          reasoning: 'Two gaps left: one more iteration.',
          durationMs: 1530,
        }),
      ),
    );
    expect(row).toMatchObject({
      tenantId: f.tenant.id,
      taskId: f.taskId,
      executionId,
      iteration: 1,
      agentType: 'backend_dev',
      agentId: f.agentId,
      qualityScore: 0.8,
      gaps: ['no test for the empty list', { text: 'error path', severity: 'high' }],
      requirements: [{ text: 'returns 404', met: true }],
      decision: 'iterate',
      durationMs: 1530,
    });
    expect(await f.asUser((tx) => tx.selfReviews.get(row.id))).toEqual(row);
    await expect(other.asUser((tx) => tx.selfReviews.get(row.id))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps one review per iteration of an execution, or of a task without one', async () => {
    const taskId = await createTask(h, f.tenant.id, f.projectId);
    const [first, second] = [await f.run(taskId), await f.run(taskId)];
    await f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, executionId: first, iteration: 1 })));
    // Another execution of the task may have its own iteration 1; a review without execution too.
    await f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, executionId: second, iteration: 1 })));
    await f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, iteration: 1 })));
    for (const again of [
      review({ taskId, executionId: first, iteration: 1 }),
      review({ taskId, iteration: 1 }),
    ]) {
      const error = await caught(f.asAgentDo((tx) => tx.selfReviews.create(again)));
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'duplicate', entity: 'self review', field: 'iteration' });
    }
    expect(await reviewsOf(taskId)).toBe(3);
  });

  it('refuses bad input with a typed error and writes nothing, raw SQL as agentflow_app included', async () => {
    const taskId = await createTask(h, f.tenant.id, f.projectId);
    const bad: Array<[string, unknown]> = [
      ['score above 1', review({ taskId, qualityScore: 1.2 })],
      ['score below 0', review({ taskId, overallScore: -0.01 })],
      ['score on 0–100', review({ taskId, completenessScore: 85 })],
      ['iteration 0', review({ taskId, iteration: 0 })],
      ['fractional iteration', review({ taskId, iteration: 1.5 })],
      ['unknown decision', review({ taskId, decision: 'maybe' as never })],
      ['unknown agent type', review({ taskId, agentType: 'intern' as never })],
      ['gaps not a list', review({ taskId, gaps: 'none' as never })],
      ['gap of a number', review({ taskId, gaps: [42] as never })],
      ['negative duration', review({ taskId, durationMs: -1 })],
      ['missing score', { ...review({ taskId }), correctnessScore: undefined }],
      ['unknown field', { ...review({ taskId }), score: 1 }],
    ];
    for (const [label, input] of bad) {
      const error = await caught(f.asAgentDo((tx) => tx.selfReviews.create(input as CreateSelfReviewInput)));
      expect(error, label).toBeInstanceOf(ValidationError);
    }
    expect(
      await caught(f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId: other.taskId })))),
    ).toMatchObject({
      code: 'not_found',
      entity: 'task',
    });
    expect(
      await caught(f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, agentId: other.agentId })))),
    ).toBeInstanceOf(NotFoundError);
    // Raw SQL as agentflow_app: the table's CHECKs refuse what the contract would.
    const insert = (score: string, gaps: string, decision: string, reasoning: string) =>
      f.asAgentDo((tx) =>
        tx.query(
          `INSERT INTO self_reviews (task_id, iteration, agent_type, quality_score, completeness_score,
             correctness_score, overall_score, gaps, decision, reasoning)
           VALUES ($1, 1, 'tester', $2::float8, 0.5, 0.5, 0.5, $3::jsonb, $4, $5)`,
          [taskId, score, gaps, decision, reasoning],
        ),
      );
    for (const [label, attempt] of [
      ['score 1.5', () => insert('1.5', '[]', 'accept', 'ok')],
      ['score 85 (0–100)', () => insert('85', '[]', 'accept', 'ok')],
      ['gaps an object', () => insert('0.5', '{}', 'accept', 'ok')],
      ['decision', () => insert('0.5', '[]', 'ship it', 'ok')],
      ['reasoning too long', () => insert('0.5', '[]', 'accept', 'x'.repeat(20001))],
    ] as const) {
      expect(await caught(attempt()), label).toBeInstanceOf(ValidationError);
    }
    expect(await reviewsOf(taskId)).toBe(0);
  });

  it("reviews a run of its task only: another task's run, no run or another tenant's is refused, nothing written", async () => {
    const taskId = await createTask(h, f.tenant.id, f.projectId);
    const elsewhere = await f.run();
    const attempts: Array<[string, string, object]> = [
      [
        "another task's run",
        elsewhere,
        { name: 'ValidationError', code: 'validation_failed', entity: 'self review' },
      ],
      ['no run', randomUUID(), { name: 'NotFoundError', entity: 'execution' }],
      ["another tenant's run", await other.run(), { name: 'NotFoundError', entity: 'execution' }],
    ];
    for (const [label, executionId, expected] of attempts) {
      const error = await caught(f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, executionId }))));
      expect(error, label).toMatchObject(expected);
      // Raw SQL as agentflow_app: the trigger and the foreign key refuse it alike.
      const raw = await caught(
        f.asAgentDo((tx) =>
          tx.query(
            `INSERT INTO self_reviews (task_id, execution_id, iteration, agent_type, quality_score,
               completeness_score, correctness_score, overall_score, decision)
             VALUES ($1, $2, 1, 'tester', 0.5, 0.5, 0.5, 0.5, 'accept')`,
            [taskId, executionId],
          ),
        ),
      );
      expect(raw, `${label} (raw SQL)`).toMatchObject(expected);
    }
    // Nor may a review be moved onto another task's run afterwards (by the service role, the only writer that updates).
    const own = await f.run(taskId);
    const row = await f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, executionId: own })));
    expect(
      await caught(
        h.asOwner((c) =>
          c.query('UPDATE self_reviews SET execution_id = $1 WHERE id = $2', [elsewhere, row.id]),
        ),
      ),
    ).toMatchObject({ sqlState: '23514' });
    expect(await reviewsOf(taskId)).toBe(1);
  });

  it('is written once: tenant work cannot change or remove a review', async () => {
    const executionId = await f.run();
    const row = await f.asAgentDo((tx) => tx.selfReviews.create(review({ executionId })));
    for (const statement of [
      'UPDATE self_reviews SET overall_score = 1 WHERE id = $1',
      'DELETE FROM self_reviews WHERE id = $1',
    ]) {
      await expect(
        f.asUser((tx) => tx.query(statement, [row.id])),
        statement,
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect(await f.asUser((tx) => tx.selfReviews.get(row.id))).toEqual(row);
  });

  describe('latest', () => {
    it('is the highest iteration of an execution, and the newest review of a task', async () => {
      const taskId = await createTask(h, f.tenant.id, f.projectId);
      const executionId = await f.run(taskId);
      // Iterations written out of order in one transaction: the highest one is the latest.
      const ids = await f.asAgentDo(async (tx) => {
        const third = await tx.selfReviews.create(
          review({ taskId, executionId, iteration: 3, decision: 'accept' }),
        );
        await tx.selfReviews.create(review({ taskId, executionId, iteration: 1 }));
        await tx.selfReviews.create(review({ taskId, executionId, iteration: 2 }));
        return third.id;
      });
      expect((await f.asUser((tx) => tx.selfReviews.latest({ executionId }))).id).toBe(ids);
      const later = await f.asAgentDo((tx) => tx.selfReviews.create(review({ taskId, iteration: 1 })));
      expect((await f.asUser((tx) => tx.selfReviews.latest({ taskId }))).id).toBe(later.id);
      await expect(
        f.asUser((tx) => tx.selfReviews.latest({ executionId: randomUUID() })),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(other.asUser((tx) => tx.selfReviews.latest({ taskId }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      for (const input of [{}, { taskId, executionId }, { taskId: 'x' }]) {
        await expect(f.asUser((tx) => tx.selfReviews.latest(input as never))).rejects.toBeInstanceOf(
          ValidationError,
        );
      }
    });
  });

  it('lists newest first, paging through ties, by task, execution and agent type', async () => {
    const taskId = await createTask(h, f.tenant.id, f.projectId);
    const created = await f.asAgentDo(async (tx) => {
      const ids: string[] = [];
      for (let i = 1; i <= 5; i++)
        ids.push(
          (
            await tx.selfReviews.create(
              review({ taskId, iteration: i, agentType: i <= 2 ? 'tester' : 'reviewer' }),
            )
          ).id,
        );
      return ids;
    });
    const pages = await allPages(2, (page) => f.asUser((tx) => tx.selfReviews.list({ taskId, ...page })));
    expect(pages.flat().map((r) => r.id)).toEqual([...created].sort().reverse());
    expect((await f.asUser((tx) => tx.selfReviews.list({ taskId, agentType: 'tester' }))).items).toHaveLength(
      2,
    );
    expect((await other.asUser((tx) => tx.selfReviews.list({ taskId }))).items).toEqual([]);
  });

  describe('score trends', () => {
    it('averages the scores per agent type and UTC day or ISO week over [from, to)', async () => {
      const g = await createKnowledgeTenant(h);
      // Reviews at chosen times, written as the owner (tenant work stamps now()).
      const at = [
        ['2026-03-02T08:00:00Z', 'tester', 0.5, 1],
        ['2026-03-02T23:59:59Z', 'tester', 0.7, 2],
        ['2026-03-03T00:00:00Z', 'tester', 0.9, 3],
        ['2026-03-03T12:00:00Z', 'reviewer', 0.4, 4],
        ['2026-03-09T00:00:00Z', 'tester', 0.1, 5],
        ['2026-03-01T23:59:59Z', 'tester', 0.0, 6],
      ] as const;
      await h.asOwner(async (c) => {
        for (const [time, agentType, score, iteration] of at)
          await c.query(
            `INSERT INTO self_reviews (tenant_id, task_id, iteration, agent_type, quality_score, completeness_score,
               correctness_score, overall_score, decision, created_at)
             VALUES ($1, $2, $3, $4, $5, 1, $5, $5, 'accept', $6)`,
            [g.tenant.id, g.taskId, iteration, agentType, score, time],
          );
      });
      const from = new Date('2026-03-02T00:00:00Z');
      const to = new Date('2026-03-09T00:00:00Z');
      const days = await g.asUser((tx) => tx.selfReviews.scoreTrends({ from, to, bucket: 'day' }));
      expect(days).toEqual([
        {
          agentType: 'tester',
          bucket: new Date('2026-03-02T00:00:00Z'),
          reviews: 2,
          qualityScore: expect.closeTo(0.6, 12),
          completenessScore: 1,
          correctnessScore: expect.closeTo(0.6, 12),
          overallScore: expect.closeTo(0.6, 12),
        },
        expect.objectContaining({
          agentType: 'reviewer',
          bucket: new Date('2026-03-03T00:00:00Z'),
          reviews: 1,
        }),
        expect.objectContaining({
          agentType: 'tester',
          bucket: new Date('2026-03-03T00:00:00Z'),
          reviews: 1,
        }),
      ]);
      // 2026-03-02 is a Monday: one ISO week holds the first four; the 9th starts the next.
      const weeks = await g.asUser((tx) =>
        tx.selfReviews.scoreTrends({
          from,
          to: new Date('2026-03-10T00:00:00Z'),
          bucket: 'week',
          agentType: 'tester',
        }),
      );
      expect(
        weeks.map((p) => [p.bucket.toISOString(), p.reviews, Number(p.qualityScore.toFixed(9))]),
      ).toEqual([
        ['2026-03-02T00:00:00.000Z', 3, 0.7],
        ['2026-03-09T00:00:00.000Z', 1, 0.1],
      ]);
      expect(await f.asUser((tx) => tx.selfReviews.scoreTrends({ from, to }))).toEqual([]);
      for (const input of [
        { from: to, to: from },
        { from, to: new Date('2028-01-01T00:00:00Z'), bucket: 'day' },
        { from, to, bucket: 'month' },
        { from: 'yesterday', to },
      ]) {
        await expect(
          g.asUser((tx) => tx.selfReviews.scoreTrends(input as never)),
          JSON.stringify(input),
        ).rejects.toBeInstanceOf(ValidationError);
      }
      // The HTTP form: ISO text.
      expect(
        await g.asUser((tx) =>
          tx.selfReviews.scoreTrends({ from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z' } as never),
        ),
      ).toHaveLength(1);
    });
  });
});
