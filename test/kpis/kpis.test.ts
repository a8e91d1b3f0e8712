import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  KPI_HIGHER_IS_BETTER,
  KPI_LOWER_IS_BETTER,
  type Kpi,
  type KpiCoreMetric,
  type KpiMetricsInput,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

interface EventRow {
  type: string;
  author_id: string | null;
  project_id: string | null;
  payload: Record<string, unknown>;
  mentions: string[];
}

/** The system events mentioning an agent, oldest first, read as the owner. */
async function eventsOf(h: EngineHarness, agentId: string, type: string): Promise<EventRow[]> {
  return h.asOwner((c) =>
    c.query<EventRow>(
      `SELECT type, author_id, project_id, payload, mentions FROM events
        WHERE $1::uuid = ANY (mentions) AND type = $2 ORDER BY id`,
      [agentId, type],
    ),
  );
}

const trustScore = async (h: EngineHarness, agentId: string) =>
  (
    await h.asOwner((c) =>
      c.query<{ score: string }>('SELECT trust_score::text AS score FROM agents WHERE id = $1', [agentId]),
    )
  )[0]!.score;

describeEachEngine('kpis', (h) => {
  let f: TenantFixture;
  let other: TenantFixture;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const record = (
    agentId: string,
    metrics: KpiMetricsInput,
    extra: { recordedAt?: Date; changeReason?: string } = {},
  ) => inTenant((tx) => tx.kpis.record({ agentId, metrics, ...extra }));

  beforeAll(async () => {
    f = await createTenant(h.store);
    other = await createTenant(h.store);
  });

  describe('recording and trends', () => {
    it('records a first KPI with no previous record, and its kpi_updated system event', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const before = Date.now();
      const kpi = await record(
        agent,
        { tasksCompleted: 3, codeQualityScore: 72.5 },
        { changeReason: 'first week' },
      );
      expect(kpi).toMatchObject({
        tenantId: f.tenant.id,
        agentId: agent,
        metrics: { tasksCompleted: 3, codeQualityScore: 72.5 },
        trend: { previousId: null, metrics: {}, customMetrics: {}, overall: null },
        changeReason: 'first week',
      });
      expect(kpi.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5000);
      expect(await eventsOf(h, agent, 'kpi_updated')).toEqual([
        {
          type: 'kpi_updated',
          author_id: null,
          project_id: null,
          payload: {
            agentId: agent,
            previousKPIs: null,
            newKPIs: { tasksCompleted: 3, codeQualityScore: 72.5 },
            changeReason: 'first week',
          },
          mentions: [agent],
        },
      ]);
    });

    it('gives each metric its direction, and overall counts the better direction of each', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const low: Record<KpiCoreMetric, number> = {
        tasksCompleted: 5,
        codeQualityScore: 60,
        positiveFeedbackCount: 2,
        featureCompletionRate: 0.5,
        bugsIntroduced: 3,
        deploymentFailures: 1,
        codeChurn: 400,
        averageTaskDuration: 90,
      };
      const high = { ...low, codeQualityScore: 60.5, featureCompletionRate: 0.75 } as Record<
        KpiCoreMetric,
        number
      >;
      for (const name of Object.keys(high) as KpiCoreMetric[])
        if (name !== 'codeQualityScore' && name !== 'featureCompletionRate') high[name] = low[name] + 1;
      await record(agent, low);
      const stableTrend = Object.fromEntries(Object.keys(low).map((name) => [name, 'stable']));
      const metrics = [...KPI_HIGHER_IS_BETTER, ...KPI_LOWER_IS_BETTER];
      for (const name of metrics) {
        const better = (KPI_HIGHER_IS_BETTER as readonly string[]).includes(name);
        const up = await record(agent, { ...low, [name]: high[name] });
        expect(up.trend.metrics, name).toEqual({ ...stableTrend, [name]: 'up' });
        expect(up.trend.overall, name).toBe(better ? 'improving' : 'declining');
        const down = await record(agent, low);
        expect(down.trend).toMatchObject({ previousId: up.id, metrics: { ...stableTrend, [name]: 'down' } });
        expect(down.trend.overall, name).toBe(better ? 'declining' : 'improving');
      }
      const same = await record(agent, low);
      expect(same.trend).toMatchObject({ metrics: stableTrend, overall: 'stable' });
      // Two better, one worse: improving; a metric missing on either side has no trend.
      const mixed = await record(agent, { tasksCompleted: 9, codeQualityScore: 70, bugsIntroduced: 4 });
      expect(mixed.trend).toMatchObject({
        metrics: { tasksCompleted: 'up', codeQualityScore: 'up', bugsIntroduced: 'up' },
        overall: 'improving',
      });
      expect(Object.keys(mixed.trend.metrics)).toHaveLength(3);
    });

    it('gives custom metrics a trend that does not count overall', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      await record(agent, { codeQualityScore: 50, customMetrics: { reviews: 3, 'lint.warnings': 10 } });
      const next = await record(agent, { codeQualityScore: 50, customMetrics: { reviews: 1, added: 1 } });
      expect(next.trend).toMatchObject({
        metrics: { codeQualityScore: 'stable' },
        customMetrics: { reviews: 'down' },
        overall: 'stable',
      });
    });

    it('keeps one record per agent and time, in time order, and not in the future', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const at = new Date(Date.now() - 60_000);
      const first = await record(agent, { tasksCompleted: 1 }, { recordedAt: at });
      expect(first.recordedAt.getTime()).toBe(at.getTime());
      const duplicate = await caught(record(agent, { tasksCompleted: 2 }, { recordedAt: at }));
      expect(duplicate).toBeInstanceOf(ConflictError);
      expect(duplicate).toMatchObject({ code: 'duplicate', entity: 'kpi', field: 'recordedAt' });
      const older = await caught(
        record(agent, { tasksCompleted: 2 }, { recordedAt: new Date(at.getTime() - 1) }),
      );
      expect(older).toMatchObject({ code: 'out_of_order', entity: 'kpi' });
      expect(older).toBeInstanceOf(ConflictError);
      const future = await caught(
        record(agent, { tasksCompleted: 2 }, { recordedAt: new Date(Date.now() + 3_600_000) }),
      );
      expect(future).toBeInstanceOf(ValidationError);
      expect((future as ValidationError).issues.map((i) => i.path)).toEqual(['recorded_at']);
      // Another agent may record at the same time.
      const peer = await createAgent(h.store, f.tenant.id);
      expect((await record(peer, { tasksCompleted: 1 }, { recordedAt: at })).recordedAt).toEqual(at);
      expect(await ownerCount(h, 'kpis WHERE agent_id = $1', [agent])).toBe(1);
      expect(await eventsOf(h, agent, 'kpi_updated')).toHaveLength(1);
      // A record without a time comes after the latest one.
      const next = await record(agent, { tasksCompleted: 3 });
      expect(next.recordedAt.getTime()).toBeGreaterThan(at.getTime());
      expect(next.trend.previousId).toBe(first.id);
    });

    it('refuses an unknown, deleted or foreign agent with NotFoundError', async () => {
      const deleted = await createAgent(h.store, f.tenant.id);
      await h.asOwner((c) => c.query('UPDATE agents SET deleted_at = now() WHERE id = $1', [deleted]));
      const foreign = await createAgent(h.store, other.tenant.id);
      for (const agent of [randomUUID(), deleted, foreign]) {
        const error = await caught(record(agent, { tasksCompleted: 1 }));
        expect(error, agent).toBeInstanceOf(NotFoundError);
        expect(error).toMatchObject({ entity: 'agent' });
      }
      expect(await ownerCount(h, 'kpis WHERE agent_id = ANY ($1::uuid[])', [[deleted, foreign]])).toBe(0);
    });

    it('refuses bad input with a ValidationError naming the field, writing nothing', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const cases: Array<[string, unknown, string]> = [
        ['no metric', { agentId: agent, metrics: {} }, 'metrics'],
        ['only empty custom metrics', { agentId: agent, metrics: { customMetrics: {} } }, 'metrics'],
        ['negative count', { agentId: agent, metrics: { tasksCompleted: -1 } }, 'metrics.tasksCompleted'],
        ['fractional count', { agentId: agent, metrics: { bugsIntroduced: 1.5 } }, 'metrics.bugsIntroduced'],
        [
          'quality above 100',
          { agentId: agent, metrics: { codeQualityScore: 101 } },
          'metrics.codeQualityScore',
        ],
        [
          'rate above 1',
          { agentId: agent, metrics: { featureCompletionRate: 1.01 } },
          'metrics.featureCompletionRate',
        ],
        [
          'duration above a year',
          { agentId: agent, metrics: { averageTaskDuration: 600_000 } },
          'metrics.averageTaskDuration',
        ],
        ['unknown metric', { agentId: agent, metrics: { linesOfCode: 5 } }, 'metrics'],
        ['string metric', { agentId: agent, metrics: { codeChurn: '5' } }, 'metrics.codeChurn'],
        [
          'infinite custom metric',
          { agentId: agent, metrics: { customMetrics: { x: Number.POSITIVE_INFINITY } } },
          'metrics.customMetrics.x',
        ],
        [
          'bad custom name',
          { agentId: agent, metrics: { customMetrics: { 'a b': 1 } } },
          'metrics.customMetrics.a b',
        ],
        [
          'custom metric named __proto__',
          { agentId: agent, metrics: JSON.parse('{"customMetrics": {"__proto__": 1}}') },
          'metrics.customMetrics.__proto__',
        ],
        ['bad agent id', { agentId: 'agent-1', metrics: { tasksCompleted: 1 } }, 'agentId'],
        [
          'invalid date',
          { agentId: agent, metrics: { tasksCompleted: 1 }, recordedAt: new Date('x') },
          'recordedAt',
        ],
        [
          'empty reason',
          { agentId: agent, metrics: { tasksCompleted: 1 }, changeReason: '' },
          'changeReason',
        ],
        ['unknown field', { agentId: agent, metrics: { tasksCompleted: 1 }, trend: {} }, '(input)'],
      ];
      for (const [label, input, path] of cases) {
        const error = await caught(inTenant((tx) => tx.kpis.record(input as never)));
        expect(error, label).toBeInstanceOf(ValidationError);
        expect(
          (error as ValidationError).issues.map((i) => i.path),
          label,
        ).toContain(path);
      }
      // Raw SQL meets the same rules in the database.
      for (const metrics of [
        '{}',
        '{"tasksCompleted": -1}',
        '{"codeQualityScore": 100.5}',
        '{"x": 1}',
        '[]',
      ]) {
        const error = await caught(
          inTenant((tx) =>
            tx.query('INSERT INTO kpis (agent_id, metrics) VALUES ($1, $2::jsonb)', [agent, metrics]),
          ),
        );
        expect(error, metrics).toBeInstanceOf(ValidationError);
      }
      expect(await ownerCount(h, 'kpis WHERE agent_id = $1', [agent])).toBe(0);
      expect(await eventsOf(h, agent, 'kpi_updated')).toEqual([]);
    });

    it('computes the trend and the event for raw SQL too, and never lets a record change', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      await record(agent, { tasksCompleted: 1 });
      const [raw] = await inTenant((tx) =>
        tx.query<{ trend: Kpi['trend'] }>(
          `INSERT INTO kpis (agent_id, metrics, trend) VALUES ($1, '{"tasksCompleted": 0}', '{"overall": "improving"}')
           RETURNING trend`,
          [agent],
        ),
      );
      expect(raw!.trend).toMatchObject({ metrics: { tasksCompleted: 'down' }, overall: 'declining' });
      expect(await eventsOf(h, agent, 'kpi_updated')).toHaveLength(2);
      for (const statement of [
        `UPDATE kpis SET metrics = '{"tasksCompleted": 9}' WHERE agent_id = $1`,
        'DELETE FROM kpis WHERE agent_id = $1',
      ]) {
        const error = await caught(inTenant((tx) => tx.query(statement, [agent])));
        expect(error, statement).toBeInstanceOf(ForbiddenError);
      }
      expect(await ownerCount(h, 'kpis WHERE agent_id = $1', [agent])).toBe(2);
    });
  });

  describe('reading', () => {
    let agent: string;
    let records: Kpi[];

    beforeAll(async () => {
      agent = await createAgent(h.store, f.tenant.id);
      records = [];
      for (let i = 0; i < 5; i++) records.push(await record(agent, { tasksCompleted: i }));
    });

    it('pages an agent history newest first', async () => {
      const pages = await allPages(2, (page) => inTenant((tx) => tx.kpis.history(agent, page)));
      expect(pages.map((p) => p.map((k) => k.metrics.tasksCompleted))).toEqual([[4, 3], [2, 1], [0]]);
      expect((await inTenant((tx) => tx.kpis.history(randomUUID()))).items).toEqual([]);
    });

    it('gets one record, and not one of another tenant', async () => {
      expect(await inTenant((tx) => tx.kpis.get(records[2]!.id))).toEqual(records[2]);
      const foreign = await h.store.withTenant(other.context, (tx) => caught(tx.kpis.get(records[2]!.id)));
      expect(foreign).toBeInstanceOf(NotFoundError);
      expect(foreign).toMatchObject({ entity: 'kpi' });
    });

    it('lists the latest record of every live agent of the tenant, paged', async () => {
      const tenant = await createTenant(h.store);
      const agents = await Promise.all([0, 1, 2, 3, 4].map(() => createAgent(h.store, tenant.tenant.id)));
      const latest = new Map<string, string>();
      for (const [index, id] of agents.entries()) {
        if (index === 4) continue; // an agent without KPIs is not listed
        for (let i = 0; i <= index; i++) {
          const kpi = await h.store.withTenant(tenant.context, (tx) =>
            tx.kpis.record({ agentId: id, metrics: { tasksCompleted: i } }),
          );
          latest.set(id, kpi.id);
        }
      }
      await h.asOwner((c) => c.query('UPDATE agents SET deleted_at = now() WHERE id = $1', [agents[3]]));
      latest.delete(agents[3]!);
      const pages = await allPages(2, (page) =>
        h.store.withTenant(tenant.context, (tx) => tx.kpis.latest(page)),
      );
      const items = pages.flat();
      expect(items.map((k) => k.agentId)).toEqual([...latest.keys()].sort());
      expect(Object.fromEntries(items.map((k) => [k.agentId, k.id]))).toEqual(Object.fromEntries(latest));
      expect(items.every((k) => k.recordedAt instanceof Date && k.tenantId === tenant.tenant.id)).toBe(true);
      // A deleted agent's history is gone to readers too.
      await h.store.withTenant(tenant.context, async (tx) => {
        expect((await tx.kpis.history(agents[3]!)).items).toEqual([]);
        expect((await tx.kpis.history(agents[2]!)).items).toHaveLength(3);
      });
    });
  });

  describe('trust score (trust-v1)', () => {
    /** Records `history` oldest first for a new agent, recomputes, and returns the change. */
    async function scoreOf(history: KpiMetricsInput[]) {
      const agent = await createAgent(h.store, f.tenant.id);
      for (const metrics of history) await record(agent, metrics);
      return { agent, change: await inTenant((tx) => tx.kpis.recomputeTrustScore(agent)) };
    }

    it('scores one record from quality, completion and reliability (worked example 1)', async () => {
      // 0.4 × 80 + 0.3 × 90 + 0.3 × (100 × 8 / (8 + 1 + 1)) = 32 + 27 + 24 = 83
      const { agent, change } = await scoreOf([
        {
          codeQualityScore: 80,
          featureCompletionRate: 0.9,
          tasksCompleted: 8,
          bugsIntroduced: 1,
          deploymentFailures: 1,
        },
      ]);
      expect(change).toEqual({
        agentId: agent,
        previous: '50.00',
        new: '83.00',
        formulaVersion: 'trust-v1',
        records: 1,
      });
      expect(await trustScore(h, agent)).toBe('83.00');
    });

    it('averages the components a record has, and weighs newer records more (worked example 2)', async () => {
      // older: quality only, 60. newer: completion 50 and reliability 100 × 3 / 4 = 75 → 62.5.
      // (1 × 62.5 + 0.8 × 60) / 1.8 = 61.3888… → 61.39
      const { change } = await scoreOf([
        { codeQualityScore: 60 },
        { featureCompletionRate: 0.5, tasksCompleted: 3, bugsIntroduced: 1 },
      ]);
      expect(change.new).toBe('61.39');
    });

    it('decays by 0.8 per record (worked example 3)', async () => {
      // qualities 100, 50, 0 oldest first: (1 × 0 + 0.8 × 50 + 0.64 × 100) / 2.44 = 42.622… → 42.62
      const { change } = await scoreOf([
        { codeQualityScore: 100 },
        { codeQualityScore: 50 },
        { codeQualityScore: 0 },
      ]);
      expect(change.new).toBe('42.62');
    });

    it('weighs the newest 10 scored records and skips records without a score (worked example 4)', async () => {
      // Two old zeros fall out of the window; the newest record has no scored metric (no tasks and
      // no defects: no reliability either) and is skipped.
      const { change } = await scoreOf([
        { codeQualityScore: 0 },
        { codeQualityScore: 0 },
        ...Array.from({ length: 10 }, () => ({ codeQualityScore: 100 })),
        { positiveFeedbackCount: 4, tasksCompleted: 0 },
      ]);
      expect(change).toMatchObject({ new: '100.00', records: 10 });
    });

    it('leaves the score alone without a scored record (worked example 5), writing no event', async () => {
      const { agent, change } = await scoreOf([{ codeChurn: 10 }]);
      expect(change).toMatchObject({ previous: '50.00', new: '50.00', records: 0 });
      expect(await eventsOf(h, agent, 'trust_score_changed')).toEqual([]);
      const missing = await caught(inTenant((tx) => tx.kpis.recomputeTrustScore(randomUUID())));
      expect(missing).toBeInstanceOf(NotFoundError);
    });

    it('writes trust_score_changed for every change, raw SQL included, and none for the same value', async () => {
      const { agent } = await scoreOf([{ codeQualityScore: 70 }]);
      await inTenant((tx) => tx.kpis.recomputeTrustScore(agent)); // unchanged: 70.00 again
      await inTenant((tx) => tx.query('UPDATE agents SET trust_score = 12.5 WHERE id = $1', [agent]));
      await inTenant((tx) =>
        tx.query('UPDATE agents SET trust_score = 12.50, name = $2 WHERE id = $1', [agent, 'Renamed']),
      );
      await h.asOwner((c) => c.query('UPDATE agents SET trust_score = 99 WHERE id = $1', [agent]));
      const events = await eventsOf(h, agent, 'trust_score_changed');
      expect(events.map((e) => e.payload)).toEqual([
        { agentId: agent, previous: 50, new: 70, formulaVersion: 'trust-v1', reason: 'recomputed' },
        { agentId: agent, previous: 70, new: 12.5, formulaVersion: null, reason: 'set directly' },
        { agentId: agent, previous: 12.5, new: 99, formulaVersion: null, reason: 'set directly' },
      ]);
      expect(events.every((e) => e.author_id === null && e.mentions.join() === agent)).toBe(true);
    });
  });
});

describeEachEngine(
  'kpis on a pool',
  (h) => {
    it('reads the latest record of every agent in one statement', async () => {
      const f = await createTenant(h.store);
      for (let i = 0; i < 3; i++) {
        const agent = await createAgent(h.store, f.tenant.id);
        await h.store.withTenant(f.context, (tx) =>
          tx.kpis.record({ agentId: agent, metrics: { codeChurn: i } }),
        );
      }
      const sent: string[] = [];
      const watched = await h.openAnother({ onQuery: (text) => sent.push(text) });
      const page = await watched.withTenant(f.context, async (tx) => {
        sent.length = 0;
        return tx.kpis.latest();
      });
      expect(page.items).toHaveLength(3);
      expect(sent.filter((text) => /\bkpis\b/.test(text))).toHaveLength(1);
    });

    it('chains concurrent records of one agent, each after exactly one previous record', async () => {
      const f = await createTenant(h.store);
      const agent = await createAgent(h.store, f.tenant.id);
      const stores = [h.store, await h.openAnother(), await h.openAnother()];
      const written = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          stores[i % stores.length]!.withTenant(f.context, (tx) =>
            tx.kpis.record({ agentId: agent, metrics: { tasksCompleted: i } }),
          ),
        ),
      );
      const byTime = [...written].sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime());
      expect(byTime.map((k) => k.trend.previousId)).toEqual([null, ...byTime.slice(0, -1).map((k) => k.id)]);
      expect(new Set(byTime.map((k) => k.recordedAt.getTime())).size).toBe(24);
    });
  },
  'server',
);
