import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateLessonInput,
  ForbiddenError,
  type Lesson,
  type ListLessonsInput,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createKnowledgeTenant, type KnowledgeFixture } from './knowledge-fixtures.ts';

const base: CreateLessonInput = {
  category: 'database',
  title: 'Take advisory locks in a fixed order',
  summary: 'Two workers locking the same keys in different orders deadlock.',
  sourceAgentType: 'backend_dev',
};

/** Seed 000's moving average, step by step as the database computes it (float8). */
function movingAverage(outcomes: readonly number[]): number | null {
  let rate: number | null = null;
  for (const outcome of outcomes) rate = rate === null ? outcome : 0.8 * rate + 0.2 * outcome;
  return rate;
}

const lessonsOf = (h: EngineHarness, tenantId: string) =>
  ownerCount(h, 'lessons WHERE tenant_id = $1', [tenantId]);

describeEachEngine('lessons', (h) => {
  let f: KnowledgeFixture;
  let other: KnowledgeFixture;

  beforeAll(async () => {
    f = await createKnowledgeTenant(h);
    other = await createKnowledgeTenant(h);
  });

  describe('create and read', () => {
    it('creates a lesson with its defaults, tags lower-cased once each, and reads it back', async () => {
      const lesson = await f.asAgentDo((tx) =>
        tx.lessons.create({
          ...base,
          details: 'Sort the keys before pg_advisory_xact_lock.',
          tags: ['Postgres', 'locks', 'postgres'],
          sourceAgentId: f.agentId,
          taskId: f.taskId,
        }),
      );
      expect(lesson).toMatchObject({
        tenantId: f.tenant.id,
        category: 'database',
        tags: ['postgres', 'locks'],
        sourceAgentType: 'backend_dev',
        sourceAgentId: f.agentId,
        taskId: f.taskId,
        confidence: 0.5,
        applicationCount: 0,
        outcomeCount: 0,
        successRate: null,
        humanValidated: false,
        validatedBy: null,
        validatedAt: null,
        deletedAt: null,
      });
      expect(lesson).not.toHaveProperty('searchVector');
      expect(await f.asUser((tx) => tx.lessons.get(lesson.id))).toEqual(lesson);
      await expect(other.asUser((tx) => tx.lessons.get(lesson.id))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses bad input with a typed error and writes nothing', async () => {
      const before = await lessonsOf(h, f.tenant.id);
      const bad: Array<[string, unknown]> = [
        ['confidence above 1', { ...base, confidence: 1.5 }],
        ['confidence below 0', { ...base, confidence: -0.1 }],
        ['confidence not a number', { ...base, confidence: Number.NaN }],
        ['category with spaces', { ...base, category: 'Data base' }],
        ['blank title', { ...base, title: '   ' }],
        ['title too long', { ...base, title: 'x'.repeat(301) }],
        ['tag with a space', { ...base, tags: ['two words'] }],
        ['too many tags', { ...base, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }],
        ['unknown agent type', { ...base, sourceAgentType: 'intern' }],
        ['unknown field', { ...base, applicationCount: 10 }],
        ['task id not a uuid', { ...base, taskId: 'task-1' }],
        ['NUL in the summary', { ...base, summary: 'a\u0000b' }],
      ];
      for (const [label, input] of bad) {
        const error = await caught(f.asAgentDo((tx) => tx.lessons.create(input as CreateLessonInput)));
        expect(error, label).toBeInstanceOf(ValidationError);
      }
      // A task or agent of another tenant does not exist here.
      expect(
        await caught(f.asAgentDo((tx) => tx.lessons.create({ ...base, taskId: other.taskId }))),
      ).toMatchObject({
        code: 'not_found',
        entity: 'task',
      });
      expect(
        await caught(f.asAgentDo((tx) => tx.lessons.create({ ...base, sourceAgentId: other.agentId }))),
      ).toBeInstanceOf(NotFoundError);
      expect(await lessonsOf(h, f.tenant.id)).toBe(before);
    });

    it('updates the content, keeps the counters, and refuses a bad update', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      const updated = await f.asAgentDo((tx) =>
        tx.lessons.update(lesson.id, { summary: 'Sort the keys first.', tags: ['locks'], confidence: 0.9 }),
      );
      expect(updated).toMatchObject({ summary: 'Sort the keys first.', tags: ['locks'], confidence: 0.9 });
      expect(await f.asAgentDo((tx) => tx.lessons.update(lesson.id, {}))).toEqual(updated);
      await expect(
        f.asAgentDo((tx) => tx.lessons.update(lesson.id, { confidence: 2 })),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        f.asAgentDo((tx) => tx.lessons.update(lesson.id, { successRate: 1 } as never)),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(other.asUser((tx) => tx.lessons.update(lesson.id, { title: 'x' }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect((await f.asUser((tx) => tx.lessons.get(lesson.id))).title).toBe(base.title);
    });
  });

  describe('applications and outcomes', () => {
    it('counts applications and moves the success rate by the weighted moving average', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      expect((await f.asAgentDo((tx) => tx.lessons.applied(lesson.id))).applicationCount).toBe(1);
      expect((await f.asAgentDo((tx) => tx.lessons.applied(lesson.id))).applicationCount).toBe(2);
      const outcomes: Array<boolean | number> = [true, false, 0.5, true, 0.25];
      const seen: Array<number | null> = [];
      for (const outcome of outcomes) {
        const row = await f.asAgentDo((tx) => tx.lessons.recordOutcome(lesson.id, outcome));
        seen.push(row.successRate);
        expect(row.applicationCount).toBe(2);
      }
      // The first outcome sets it; each later one: 0.8 × rate + 0.2 × outcome.
      for (const [i, value] of [1, 0.8, 0.74, 0.792, 0.6836].entries())
        expect(seen[i]).toBeCloseTo(value, 12);
      expect(seen.at(-1)).toBe(movingAverage([1, 0, 0.5, 1, 0.25]));
      expect((await f.asUser((tx) => tx.lessons.get(lesson.id))).outcomeCount).toBe(5);
    });

    it('refuses an outcome outside 0–1 and an unknown lesson, changing nothing', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      for (const outcome of [1.01, -1, Number.POSITIVE_INFINITY, 'yes', null]) {
        await expect(
          f.asAgentDo((tx) => tx.lessons.recordOutcome(lesson.id, outcome as never)),
          String(outcome),
        ).rejects.toBeInstanceOf(ValidationError);
      }
      await expect(f.asAgentDo((tx) => tx.lessons.applied('not-an-id'))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(other.asUser((tx) => tx.lessons.applied(lesson.id))).rejects.toBeInstanceOf(NotFoundError);
      await expect(other.asUser((tx) => tx.lessons.recordOutcome(lesson.id, true))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await f.asUser((tx) => tx.lessons.get(lesson.id))).toMatchObject({
        applicationCount: 0,
        outcomeCount: 0,
        successRate: null,
      });
    });

    it('keeps the counters the database’s, raw SQL as agentflow_app included', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      await f.asAgentDo((tx) => tx.lessons.applied(lesson.id));
      await f.asAgentDo((tx) => tx.lessons.recordOutcome(lesson.id, true));
      const attempts: Array<[string, string, unknown]> = [
        ['count back', 'UPDATE lessons SET application_count = 0 WHERE id = $1', ForbiddenError],
        [
          'outcomes back',
          'UPDATE lessons SET outcome_count = 0, success_rate = NULL WHERE id = $1',
          ForbiddenError,
        ],
        ['rate without an outcome', 'UPDATE lessons SET success_rate = 0 WHERE id = $1', ForbiddenError],
        [
          'rate out of range',
          'UPDATE lessons SET success_rate = 1.5, outcome_count = 2 WHERE id = $1',
          ValidationError,
        ],
        ['confidence out of range', 'UPDATE lessons SET confidence = 2 WHERE id = $1', ValidationError],
        ['bad tags', "UPDATE lessons SET tags = ARRAY['A B'] WHERE id = $1", ValidationError],
        ['repeated tags', "UPDATE lessons SET tags = ARRAY['a', 'a'] WHERE id = $1", ValidationError],
        ['NULL tag', 'UPDATE lessons SET tags = ARRAY[NULL::text] WHERE id = $1', ValidationError],
      ];
      for (const [label, statement, type] of attempts) {
        const error = await caught(f.asAgentDo((tx) => tx.query(statement, [lesson.id])));
        expect(error, label).toBeInstanceOf(type as typeof Error);
      }
      // An insert starts unapplied and without outcomes whatever it says.
      const [inserted] = await f.asAgentDo((tx) =>
        tx.query<{ application_count: number; outcome_count: number; success_rate: number | null }>(
          `INSERT INTO lessons (category, title, summary, source_agent_type, application_count, outcome_count, success_rate)
           VALUES ('database', 'Forged', 'Forged counters', 'tester', 99, 5, 1) RETURNING application_count, outcome_count, success_rate`,
        ),
      );
      expect(inserted).toEqual({ application_count: 0, outcome_count: 0, success_rate: null });
      expect(await f.asUser((tx) => tx.lessons.get(lesson.id))).toMatchObject({
        applicationCount: 1,
        outcomeCount: 1,
        successRate: 1,
        confidence: 0.5,
      });
    });
  });

  describe('human validation', () => {
    it('is set and cleared by a human member, who is stamped with the time', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      const validated = await f.asUser((tx) => tx.lessons.validate(lesson.id, { validated: true }));
      expect(validated).toMatchObject({ humanValidated: true, validatedBy: f.owner.id });
      expect(validated.validatedAt).toBeInstanceOf(Date);
      // An agent's later edit keeps the stamp; it cannot be forged either.
      const edited = await f.asAgentDo((tx) => tx.lessons.update(lesson.id, { confidence: 0.7 }));
      expect(edited).toMatchObject({
        humanValidated: true,
        validatedBy: f.owner.id,
        validatedAt: validated.validatedAt,
      });
      await f.asAgentDo((tx) =>
        tx.query('UPDATE lessons SET validated_by = $2 WHERE id = $1', [lesson.id, f.agentId]),
      );
      expect((await f.asUser((tx) => tx.lessons.get(lesson.id))).validatedBy).toBe(f.owner.id);
      const cleared = await f.asUser((tx) => tx.lessons.validate(lesson.id, { validated: false }));
      expect(cleared).toMatchObject({ humanValidated: false, validatedBy: null, validatedAt: null });
      // Created validated by a human.
      const born = await f.asUser((tx) => tx.lessons.create({ ...base, humanValidated: true }));
      expect(born).toMatchObject({ humanValidated: true, validatedBy: f.owner.id });
    });

    it('is refused to an agent and to a service member, raw SQL included, and nothing changes', async () => {
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      const before = await lessonsOf(h, f.tenant.id);
      for (const [label, context] of [
        ['agent', f.asAgent],
        ['service member', f.asServiceMember],
      ] as const) {
        const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
          ['validate', (tx) => tx.lessons.validate(lesson.id, { validated: true })],
          ['create validated', (tx) => tx.lessons.create({ ...base, humanValidated: true })],
          [
            'raw update',
            (tx) => tx.query('UPDATE lessons SET human_validated = true WHERE id = $1', [lesson.id]),
          ],
          [
            'raw update with a forged validator',
            (tx) =>
              tx.query(
                'UPDATE lessons SET human_validated = true, validated_by = $2, validated_at = now() WHERE id = $1',
                [lesson.id, f.owner.id],
              ),
          ],
          [
            'raw insert',
            (tx) =>
              tx.query(
                `INSERT INTO lessons (category, title, summary, source_agent_type, human_validated, validated_by, validated_at)
                 VALUES ('x', 'y', 'z', 'tester', true, $1, now())`,
                [f.owner.id],
              ),
          ],
        ];
        for (const [what, attempt] of attempts) {
          const error = await caught(h.store.withTenant(context, attempt));
          expect(error, `${label}: ${what}`).toBeInstanceOf(ForbiddenError);
          expect((error as ForbiddenError).entity, `${label}: ${what}`).toBe('lesson');
        }
      }
      // Clearing is the human's too.
      await f.asUser((tx) => tx.lessons.validate(lesson.id, { validated: true }));
      await expect(
        f.asAgentDo((tx) => tx.lessons.validate(lesson.id, { validated: false })),
      ).rejects.toBeInstanceOf(ForbiddenError);
      expect(await f.asUser((tx) => tx.lessons.get(lesson.id))).toMatchObject({
        humanValidated: true,
        validatedBy: f.owner.id,
      });
      expect(await lessonsOf(h, f.tenant.id)).toBe(before);
    });
  });

  describe('soft delete', () => {
    it('hides a deleted lesson from every read and freezes it, raw SQL included', async () => {
      const lesson = await f.asAgentDo((tx) =>
        tx.lessons.create({ ...base, category: 'soft-delete', title: 'Quarantine flaky snapshot tests' }),
      );
      await f.asAgentDo((tx) => tx.lessons.delete(lesson.id));
      await expect(f.asUser((tx) => tx.lessons.get(lesson.id))).rejects.toBeInstanceOf(NotFoundError);
      await expect(f.asUser((tx) => tx.lessons.delete(lesson.id))).rejects.toBeInstanceOf(NotFoundError);
      const attempts: Array<(tx: TenantTx) => Promise<unknown>> = [
        (tx) => tx.lessons.applied(lesson.id),
        (tx) => tx.lessons.recordOutcome(lesson.id, true),
        (tx) => tx.lessons.update(lesson.id, { title: 'Back' }),
        (tx) => tx.lessons.validate(lesson.id, { validated: true }),
        (tx) => tx.query('UPDATE lessons SET deleted_at = NULL WHERE id = $1', [lesson.id]),
      ];
      for (const attempt of attempts) {
        await expect(f.asUser(attempt)).rejects.toBeInstanceOf(NotFoundError);
      }
      expect((await f.asUser((tx) => tx.lessons.list({ category: 'soft-delete' }))).items).toEqual([]);
      expect((await f.asUser((tx) => tx.lessons.search({ query: 'flaky snapshot' }))).items).toEqual([]);
      expect(await ownerCount(h, 'lessons WHERE id = $1 AND deleted_at IS NOT NULL', [lesson.id])).toBe(1);
    });
  });

  describe('list', () => {
    it('pages newest first, ties within one transaction included, filtered by category, tags, source and validation', async () => {
      const created = await f.asAgentDo(async (tx) => {
        const rows: Lesson[] = [];
        for (let i = 0; i < 7; i++) {
          rows.push(
            await tx.lessons.create({
              ...base,
              category: 'listing',
              title: `Lesson ${i}`,
              tags: i % 2 === 0 ? ['even', 'all'] : ['odd', 'all'],
              sourceAgentType: i < 3 ? 'tester' : 'reviewer',
            }),
          );
        }
        return rows;
      });
      await f.asUser((tx) => tx.lessons.validate(created[0]!.id, { validated: true }));
      const pages = await allPages(3, (page) =>
        f.asUser((tx) => tx.lessons.list({ category: 'listing', ...page })),
      );
      const ids = pages.flat().map((l) => l.id);
      // One transaction: one created_at, so the order is by id, descending.
      expect(ids).toEqual(
        created
          .map((l) => l.id)
          .sort()
          .reverse(),
      );
      const titles = async (input: Omit<ListLessonsInput, 'category'>) =>
        (await f.asUser((tx) => tx.lessons.list({ category: 'listing', ...input }))).items
          .map((l) => l.title)
          .sort();
      expect(await titles({ tags: ['even'] })).toEqual(['Lesson 0', 'Lesson 2', 'Lesson 4', 'Lesson 6']);
      expect(await titles({ tags: ['even', 'odd'] })).toHaveLength(7);
      expect(await titles({ tags: ['even', 'odd'], tagMatch: 'all' })).toEqual([]);
      expect(await titles({ tags: ['Even', 'all'], tagMatch: 'all' })).toHaveLength(4);
      expect(await titles({ sourceAgentType: 'tester' })).toEqual(['Lesson 0', 'Lesson 1', 'Lesson 2']);
      expect(await titles({ humanValidated: true })).toEqual(['Lesson 0']);
      expect((await other.asUser((tx) => tx.lessons.list({ category: 'listing' }))).items).toEqual([]);
      for (const input of [
        { limit: 0 },
        { limit: 1001 },
        { cursor: 'nope!' },
        { tags: [] },
        { tagMatch: 'some' },
      ]) {
        await expect(
          f.asUser((tx) => tx.lessons.list(input as never)),
          JSON.stringify(input),
        ).rejects.toBeInstanceOf(ValidationError);
      }
    });
  });
});

describeEachEngine(
  'lessons under concurrency',
  (h) => {
    let f: KnowledgeFixture;
    beforeAll(async () => {
      f = await createKnowledgeTenant(h);
    });

    // Each test runs its 100 calls as 100 units of work on a pool of 20 connections: they queue on
    // the lesson's row lock, and each UPDATE … SET x = f(x) re-reads the row the one before it
    // committed (READ COMMITTED), so none is lost and none reads a stale value.
    const concurrently = async <T>(n: number, work: (i: number) => Promise<T>) =>
      Promise.all(Array.from({ length: n }, (_, i) => work(i)));

    it('counts 100 concurrent applications', async () => {
      const store = await h.openAnother({ postgres: { max: 20 } });
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      await concurrently(100, () => store.withTenant(f.asAgent, (tx) => tx.lessons.applied(lesson.id)));
      expect((await f.asUser((tx) => tx.lessons.get(lesson.id))).applicationCount).toBe(100);
    });

    it('100 concurrent equal outcomes give exactly the serial value', async () => {
      // With equal outcomes the order of the updates cannot matter, so the serial value is known in
      // advance: after a first 0, n ones give 1 - 0.8^n, a different float8 for every n. A lost
      // update (two reading the same rate) would leave the value of 99 outcomes; the database's
      // serial run of the same calls must agree to the last bit.
      const store = await h.openAnother({ postgres: { max: 20 } });
      const [racing, serial] = await f.asAgentDo(async (tx) => [
        await tx.lessons.create(base),
        await tx.lessons.create(base),
      ]);
      await f.asAgentDo((tx) => tx.lessons.recordOutcome(racing!.id, false));
      await f.asAgentDo((tx) => tx.lessons.recordOutcome(serial!.id, false));
      await concurrently(100, () =>
        store.withTenant(f.asAgent, (tx) => tx.lessons.recordOutcome(racing!.id, true)),
      );
      for (let i = 0; i < 100; i++) await f.asAgentDo((tx) => tx.lessons.recordOutcome(serial!.id, true));
      const [raced, walked] = await f.asUser(async (tx) => [
        await tx.lessons.get(racing!.id),
        await tx.lessons.get(serial!.id),
      ]);
      expect(raced!.outcomeCount).toBe(101);
      expect(raced!.successRate).toBe(walked!.successRate);
      expect(raced!.successRate).toBe(movingAverage([0, ...Array<number>(100).fill(1)]));
      expect(raced!.successRate).not.toBe(movingAverage([0, ...Array<number>(99).fill(1)]));
    });

    it('100 concurrent mixed outcomes give exactly the serial value of their commit order', async () => {
      // With 0s and 1s mixed, the result depends on the order the updates commit in, which the race
      // decides. Each call returns the row it wrote: outcome_count is its place in the commit order
      // and success_rate the value after it. Replaying the outcomes serially in that order must give
      // every one of those values, and the last one: no update was lost or applied to a stale rate.
      const store = await h.openAnother({ postgres: { max: 20 } });
      const lesson = await f.asAgentDo((tx) => tx.lessons.create(base));
      const outcomes = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 0 : i % 7 === 0 ? 0.5 : 1));
      const rows = await concurrently(100, (i) =>
        store.withTenant(f.asAgent, (tx) => tx.lessons.recordOutcome(lesson.id, outcomes[i]!)),
      );
      const byCommit = rows.map((row, i) => ({
        place: row.outcomeCount,
        outcome: outcomes[i]!,
        rate: row.successRate,
      }));
      byCommit.sort((a, b) => a.place - b.place);
      expect(byCommit.map((r) => r.place)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      let rate: number | null = null;
      for (const step of byCommit) {
        rate = rate === null ? step.outcome : 0.8 * rate + 0.2 * step.outcome;
        expect(step.rate).toBe(rate);
      }
      const final = await f.asUser((tx) => tx.lessons.get(lesson.id));
      expect(final.successRate).toBe(rate);
      expect(final.outcomeCount).toBe(100);
    });
  },
  'server',
);
