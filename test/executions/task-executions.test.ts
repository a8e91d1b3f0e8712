import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type TaskExecution,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { tasks } from '../../src/schema.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

/** US dollars as text → whole millionths, exactly (BigInt): how the tests add costs, never as floats. */
function micros(cost: string): bigint {
  const [whole, fraction = ''] = cost.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
}
/** Whole millionths → numeric(20,6) text, as the database prints it. */
function usd(value: bigint): string {
  return `${value / 1_000_000n}.${(value % 1_000_000n).toString().padStart(6, '0')}`;
}

async function newTask(h: EngineHarness, f: TimelineFixture, projectId = f.projectId): Promise<string> {
  return h.store.withTenant(f.context, async (tx) => {
    const [task] = await tx.db
      .insert(tasks)
      .values({ tenantId: f.tenant.id, projectId, title: `Task ${Math.random().toString(36).slice(2, 8)}` })
      .returning({ id: tasks.id });
    return task!.id;
  });
}

describeEachEngine('task executions', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);
  const executionCount = () => ownerCount(h, 'task_executions WHERE tenant_id = $1', [f.tenant.id]);
  const totalsOf = (taskId: string) => asUser((tx) => tx.taskExecutions.taskTotals(taskId));

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  describe('lifecycle', () => {
    it('records, starts, adds usage and finishes a run; the database stamps times, the project and the session', async () => {
      const taskId = await newTask(h, f);
      const { session } = await asAgent(f.dev, (tx) =>
        tx.workSessions.start({ agentId: f.dev, projectId: f.projectId }),
      );
      const created = await asAgent(f.dev, (tx) =>
        tx.taskExecutions.create({
          taskId,
          input: { prompt: 'Build the login form' },
          modelName: 'claude-x',
        }),
      );
      expect(created).toMatchObject({
        taskId,
        agentId: f.dev,
        projectId: f.projectId,
        sessionId: session.id,
        status: 'pending',
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        inputTokens: 0,
        costUsd: '0.000000',
        modelName: 'claude-x',
      });
      const started = await asAgent(f.dev, (tx) => tx.taskExecutions.start(created.id));
      expect(started.status).toBe('running');
      expect(started.startedAt).toBeInstanceOf(Date);
      await asAgent(f.dev, (tx) =>
        tx.taskExecutions.recordUsage(created.id, {
          inputTokens: 1000,
          cachedTokens: 200,
          costUsd: '0.0125',
        }),
      );
      const usage = await asAgent(f.dev, (tx) =>
        tx.taskExecutions.recordUsage(created.id, {
          outputTokens: 300,
          reasoningTokens: 50,
          costUsd: '0.0075',
        }),
      );
      expect(usage).toMatchObject({
        inputTokens: 1000,
        outputTokens: 300,
        cachedTokens: 200,
        reasoningTokens: 50,
        costUsd: '0.020000',
      });
      const finished = await asAgent(f.dev, (tx) =>
        tx.taskExecutions.finish(created.id, {
          status: 'success',
          output: { files: ['src/login.ts'] },
          outputTokens: 100,
          costUsd: '0.001',
        }),
      );
      expect(finished).toMatchObject({
        status: 'success',
        output: { files: ['src/login.ts'] },
        outputTokens: 400,
        costUsd: '0.021000',
        error: null,
      });
      expect(finished.finishedAt).toBeInstanceOf(Date);
      expect(finished.durationMs).toBeGreaterThanOrEqual(0);
      expect(await asUser((tx) => tx.taskExecutions.get(created.id))).toEqual(finished);

      expect(await totalsOf(taskId)).toEqual({
        taskId,
        executions: 1,
        succeeded: 1,
        failed: 0,
        timedOut: 0,
        inputTokens: 1000,
        outputTokens: 400,
        cachedTokens: 200,
        reasoningTokens: 50,
        costUsd: '0.021000',
        durationMs: finished.durationMs,
      });
      const feed = await h.asOwner((c) =>
        c.query<{ kind: string; summary: string; details: Record<string, unknown>; actor_id: string }>(
          `SELECT kind, summary, details, actor_id FROM activity_feed WHERE task_id = $1 AND kind LIKE 'execution%'
            ORDER BY occurred_at, kind DESC`,
          [taskId],
        ),
      );
      expect(feed.map((e) => e.kind)).toEqual(['execution_recorded', 'execution_finished']);
      expect(feed[1]).toMatchObject({
        actor_id: f.dev,
        details: { id: created.id, status: 'success', costUsd: '0.021000', outputTokens: 400 },
      });
      expect(feed[1]!.summary).toContain('ended in success: 1650 tokens, $0.021000');
      await asAgent(f.dev, (tx) => tx.workSessions.stop(session.id));
    });

    it('goes pending → failure with an error and no start; timeouts count apart', async () => {
      const taskId = await newTask(h, f);
      const queued = await asUser((tx) => tx.taskExecutions.create({ taskId, agentId: f.lead }));
      expect(queued.sessionId).toBeNull();
      const failed = await asUser((tx) =>
        tx.taskExecutions.finish(queued.id, { status: 'failure', error: { message: 'no capacity' } }),
      );
      expect(failed).toMatchObject({
        status: 'failure',
        startedAt: null,
        durationMs: null,
        error: { message: 'no capacity' },
      });
      const running = await asUser((tx) =>
        tx.taskExecutions.create({
          taskId,
          agentId: f.lead,
          status: 'running',
          inputTokens: 7,
          costUsd: '1',
        }),
      );
      await asUser((tx) =>
        tx.taskExecutions.finish(running.id, { status: 'timeout', error: { after: '30m' } }),
      );
      expect(await totalsOf(taskId)).toMatchObject({
        executions: 2,
        succeeded: 0,
        failed: 1,
        timedOut: 1,
        inputTokens: 7,
        costUsd: '1.000000',
      });
    });

    it('adds costs exactly: 0.1 + 0.2 is 0.3, in the run, the task, the tenant and the report', async () => {
      const before = await asUser((tx) => tx.taskExecutions.tenantTotals());
      const taskId = await newTask(h, f);
      const run = await asUser((tx) =>
        tx.taskExecutions.create({ taskId, agentId: f.lead, status: 'running', costUsd: '0.1' }),
      );
      const done = await asUser((tx) =>
        tx.taskExecutions.finish(run.id, { status: 'success', costUsd: '0.2' }),
      );
      expect(done.costUsd).toBe('0.300000');
      const second = await asUser((tx) =>
        tx.taskExecutions.create({ taskId, agentId: f.lead, status: 'running', costUsd: '0.000001' }),
      );
      await asUser((tx) =>
        tx.taskExecutions.finish(second.id, { status: 'success', costUsd: '99999999.999998' }),
      );
      const total = usd(micros('0.3') + micros('99999999.999999'));
      expect(total).toBe('100000000.299999');
      expect((await totalsOf(taskId)).costUsd).toBe(total);
      const after = await asUser((tx) => tx.taskExecutions.tenantTotals());
      expect(after.costUsd).toBe(usd(micros(before.costUsd) + micros(total)));
      expect(typeof after.costUsd).toBe('string');
    });
  });

  describe('rules the database keeps (raw SQL as agentflow_app)', () => {
    let taskId: string;
    const raw = (text: string, params: unknown[] = []) => asUser((tx) => tx.query(text, params));
    const insertRun = (status: string, extra = '') =>
      raw(
        `INSERT INTO task_executions (task_id, agent_id, project_id, status${extra ? ', input_tokens' : ''})
         VALUES ($1, $2, $3, $4${extra ? `, ${extra}` : ''}) RETURNING id, project_id, started_at`,
        [taskId, f.lead, f.otherProjectId, status],
      ) as Promise<Array<{ id: string; project_id: string; started_at: Date | null }>>;
    beforeAll(async () => {
      taskId = await newTask(h, f);
    });

    it('inserts only pending or running, with the task’s project whatever is given', async () => {
      for (const status of ['success', 'failure', 'timeout']) {
        const error = await caught(insertRun(status));
        expect(error, status).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ code: 'invalid_transition', entity: 'task execution' });
      }
      const [row] = await insertRun('pending');
      expect(row!.project_id).toBe(f.projectId);
      expect(row!.started_at).toBeNull();
      expect(await caught(insertRun('pending', '5'))).toMatchObject({ code: 'usage_refused' });
    });

    it('refuses every move outside the state machine, and freezes final runs', async () => {
      const [pending] = await insertRun('pending');
      const move = (id: string, status: string) =>
        raw('UPDATE task_executions SET status = $2 WHERE id = $1', [id, status]);
      for (const status of ['success', 'timeout']) {
        expect(await caught(move(pending!.id, status)), status).toMatchObject({ code: 'invalid_transition' });
      }
      await move(pending!.id, 'running');
      expect(await caught(move(pending!.id, 'pending'))).toMatchObject({ code: 'invalid_transition' });
      await move(pending!.id, 'success');
      for (const change of [
        `status = 'failure'`,
        `output = '{"late": true}'`,
        'input_tokens = input_tokens + 1',
        `cost_usd = cost_usd + 1`,
      ]) {
        const error = await caught(raw(`UPDATE task_executions SET ${change} WHERE id = $1`, [pending!.id]));
        expect(error, change).toMatchObject({ code: 'execution_finished' });
      }
    });

    it('keeps usage growing, non-negative and recorded only while running', async () => {
      const [run] = await insertRun('running', '10');
      const set = (change: string) => raw(`UPDATE task_executions SET ${change} WHERE id = $1`, [run!.id]);
      expect(await caught(set('input_tokens = 9'))).toMatchObject({ code: 'usage_refused' });
      expect(await caught(set('cost_usd = -1'))).toMatchObject({ code: 'usage_refused' });
      // A negative amount is refused by the table itself, before any rule of the trigger.
      for (const column of [
        'input_tokens',
        'output_tokens',
        'cached_tokens',
        'reasoning_tokens',
        'cost_usd',
      ]) {
        const error = await caught(
          raw(
            `INSERT INTO task_executions (task_id, agent_id, status, ${column}) VALUES ($1, $2, 'running', -1)`,
            [taskId, f.lead],
          ),
        );
        expect(error, column).toBeInstanceOf(ValidationError);
      }
      const [pending] = await insertRun('pending');
      expect(
        await caught(raw('UPDATE task_executions SET output_tokens = 1 WHERE id = $1', [pending!.id])),
      ).toMatchObject({ code: 'usage_refused' });
      expect(await caught(set('reasoning_tokens = -5'))).toMatchObject({ code: 'usage_refused' });
      const error = await caught(
        raw(`UPDATE task_executions SET status = 'success', error = '{"x": 1}' WHERE id = $1`, [run!.id]),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((await asUser((tx) => tx.taskExecutions.get(run!.id))).inputTokens).toBe(10);
    });

    it('lets no application write the times, the task, the agent or the totals', async () => {
      const [run] = await insertRun('running');
      for (const change of [
        `started_at = now() - interval '1 day'`,
        `finished_at = now()`,
        'duration_ms = 1',
        `task_id = task_id`,
        `agent_id = agent_id`,
        `project_id = project_id`,
        `created_at = now()`,
      ]) {
        const error = await caught(raw(`UPDATE task_executions SET ${change} WHERE id = $1`, [run!.id]));
        expect(error, change).toBeInstanceOf(ForbiddenError);
      }
      expect(await caught(raw('DELETE FROM task_executions WHERE id = $1', [run!.id]))).toBeInstanceOf(
        ForbiddenError,
      );
      for (const statement of [
        'UPDATE task_execution_totals SET cost_usd = 0',
        `INSERT INTO task_execution_totals (task_id, cost_usd) VALUES ('${taskId}', 1)`,
        'DELETE FROM task_execution_totals',
        'UPDATE tenant_execution_totals SET executions = 0',
        'INSERT INTO tenant_execution_totals (executions) VALUES (1)',
        'UPDATE execution_cost_daily SET cost_usd = 0',
        'DELETE FROM execution_cost_daily',
      ]) {
        expect(await caught(raw(statement)), statement).toBeInstanceOf(ForbiddenError);
      }
      // Nor through the service role: only the database's trigger function writes them.
      const asService = await caught(
        h.store.asService({ actor: 'test' }, (svc) =>
          svc.query('UPDATE tenant_execution_totals SET executions = 0'),
        ),
      );
      expect(asService).toBeInstanceOf(ForbiddenError);
    });
  });

  describe('who may record a run', () => {
    it('lets an agent record and change only its own runs', async () => {
      const taskId = await newTask(h, f);
      const count = await executionCount();
      const forOther = await caught(
        asAgent(f.dev, (tx) => tx.taskExecutions.create({ taskId, agentId: f.lead })),
      );
      expect(forOther).toBeInstanceOf(ForbiddenError);
      const leads = await asAgent(f.lead, (tx) => tx.taskExecutions.create({ taskId, status: 'running' }));
      expect(leads.agentId).toBe(f.lead);
      expect(
        await caught(asAgent(f.reviewer, (tx) => tx.taskExecutions.finish(leads.id, { status: 'success' }))),
      ).toBeInstanceOf(ForbiddenError);
      expect(
        await caught(
          asAgent(f.reviewer, (tx) => tx.taskExecutions.recordUsage(leads.id, { inputTokens: 1 })),
        ),
      ).toBeInstanceOf(ForbiddenError);
      expect(await executionCount()).toBe(count + 1);
      expect((await asUser((tx) => tx.taskExecutions.get(leads.id))).status).toBe('running');
    });

    it('gives no new run to a terminated agent, nor to an agent of another project', async () => {
      const taskId = await newTask(h, f);
      const agent = await createAgent(h.store, f.tenant.id);
      const run = await asUser((tx) =>
        tx.taskExecutions.create({ taskId, agentId: agent, status: 'running' }),
      );
      await asUser((tx) => tx.agents.changeStatus(agent, 'terminated'));
      const count = await executionCount();
      expect(
        await caught(asUser((tx) => tx.taskExecutions.create({ taskId, agentId: agent }))),
      ).toMatchObject({
        code: 'agent_unavailable',
      });
      expect(await caught(asAgent(agent, (tx) => tx.taskExecutions.create({ taskId })))).toBeInstanceOf(
        ForbiddenError,
      );
      // Its run in flight can still be closed by a person.
      expect((await asUser((tx) => tx.taskExecutions.finish(run.id, { status: 'failure' }))).status).toBe(
        'failure',
      );
      const elsewhere = await newTask(h, f, f.otherProjectId);
      expect(
        await caught(asUser((tx) => tx.taskExecutions.create({ taskId: elsewhere, agentId: f.dev }))),
      ).toBeInstanceOf(ValidationError);
      expect(await executionCount()).toBe(count);
    });

    it('takes only the agent’s own open session of the task’s project', async () => {
      const taskId = await newTask(h, f);
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      expect(
        await caught(
          asUser((tx) => tx.taskExecutions.create({ taskId, agentId: f.lead, sessionId: session.id })),
        ),
      ).toBeInstanceOf(ValidationError);
      await asAgent(agent, (tx) => tx.workSessions.stop(session.id));
      expect(
        await caught(
          asUser((tx) => tx.taskExecutions.create({ taskId, agentId: agent, sessionId: session.id })),
        ),
      ).toMatchObject({ code: 'session_stopped' });
    });
  });

  describe('bad input', () => {
    it('is a typed error and writes nothing', async () => {
      const taskId = await newTask(h, f);
      const count = await executionCount();
      const attempts: Array<[string, unknown, new (...args: never[]) => Error]> = [
        ['a float cost', { taskId, agentId: f.lead, status: 'running', costUsd: 0.1 }, ValidationError],
        ['an exponent', { taskId, agentId: f.lead, status: 'running', costUsd: '1e-3' }, ValidationError],
        ['a negative cost', { taskId, agentId: f.lead, status: 'running', costUsd: '-0.5' }, ValidationError],
        ['7 decimals', { taskId, agentId: f.lead, status: 'running', costUsd: '0.0000001' }, ValidationError],
        ['negative tokens', { taskId, agentId: f.lead, status: 'running', inputTokens: -1 }, ValidationError],
        [
          'fractional tokens',
          { taskId, agentId: f.lead, status: 'running', outputTokens: 1.5 },
          ValidationError,
        ],
        ['a final status', { taskId, agentId: f.lead, status: 'success' }, ValidationError],
        ['no agent', { taskId }, ValidationError],
        ['an unknown field', { taskId, agentId: f.lead, projectId: f.projectId }, ValidationError],
        ['an unknown task', { taskId: f.projectId, agentId: f.lead }, NotFoundError],
        ['another tenant’s agent', { taskId, agentId: other.lead }, NotFoundError],
        ['usage while pending', { taskId, agentId: f.lead, inputTokens: 3 }, ConflictError],
      ];
      for (const [label, input, type] of attempts) {
        const error = await caught(asUser((tx) => tx.taskExecutions.create(input as never)));
        expect(error, label).toBeInstanceOf(type);
      }
      const run = await asUser((tx) =>
        tx.taskExecutions.create({ taskId, agentId: f.lead, status: 'running' }),
      );
      for (const [label, work] of [
        [
          'a float in usage',
          (tx: TenantTx) => tx.taskExecutions.recordUsage(run.id, { costUsd: 0.2 as never }),
        ],
        [
          'a non-final finish',
          (tx: TenantTx) => tx.taskExecutions.finish(run.id, { status: 'running' as never }),
        ],
        [
          'an error with success',
          (tx: TenantTx) => tx.taskExecutions.finish(run.id, { status: 'success', error: { x: 1 } }),
        ],
        ['a malformed id', (tx: TenantTx) => tx.taskExecutions.get('nope')],
      ] as const) {
        expect(await caught(asUser(work)), label).toBeInstanceOf(ValidationError);
      }
      expect(await caught(asUser((tx) => tx.taskExecutions.get(f.projectId)))).toBeInstanceOf(NotFoundError);
      expect(await caught(asUser((tx) => tx.taskExecutions.taskTotals(f.projectId)))).toBeInstanceOf(
        NotFoundError,
      );
      expect(await executionCount()).toBe(count + 1);
      expect(await asUser((tx) => tx.taskExecutions.get(run.id))).toEqual(run);
    });
  });

  describe('history, lists and the cost report', () => {
    let agent: string;
    let runs: TaskExecution[];
    beforeAll(async () => {
      agent = await createAgent(h.store, f.tenant.id, { projectId: f.otherProjectId });
      await asUser((tx) => tx.agents.update(agent, { modelProvider: 'acme', modelName: 'big-1' }));
      const first = await newTask(h, f, f.otherProjectId);
      const second = await newTask(h, f, f.otherProjectId);
      runs = [];
      // Five runs in one transaction (they share created_at: ties on the sort key), two more after.
      await asAgent(agent, async (tx) => {
        for (let i = 0; i < 5; i++)
          runs.push(await tx.taskExecutions.create({ taskId: first, status: 'running' }));
      });
      for (const taskId of [second, second])
        runs.push(await asAgent(agent, (tx) => tx.taskExecutions.create({ taskId, status: 'running' })));
      for (const [i, run] of runs.entries()) {
        await asAgent(agent, (tx) =>
          tx.taskExecutions.finish(run.id, {
            status: i % 3 === 0 ? 'failure' : 'success',
            inputTokens: 10,
            costUsd: '0.1',
          }),
        );
      }
    });

    it('pages an agent’s history newest first, each run with its task', async () => {
      const pages = await allPages(3, (page) => asUser((tx) => tx.taskExecutions.agentHistory(agent, page)));
      const items = pages.flat();
      expect(items).toHaveLength(7);
      expect(new Set(items.map((item) => item.id))).toEqual(new Set(runs.map((run) => run.id)));
      const keys = items.map((item) => [item.createdAt.getTime(), item.id] as const);
      expect([...keys].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1))).toEqual(keys);
      expect(items[0]).toMatchObject({ agentId: agent, costUsd: '0.100000', modelName: 'big-1' });
      expect(items[0]!.task.title).toMatch(/^Task /);
      expect(items[0]!.task.status).toBe('backlog');
      expect(await caught(asUser((tx) => tx.taskExecutions.agentHistory(f.projectId)))).toBeInstanceOf(
        NotFoundError,
      );
      expect(await caught(asUser((tx) => tx.taskExecutions.agentHistory(other.lead)))).toBeInstanceOf(
        NotFoundError,
      );
      expect((await asUser((tx) => tx.taskExecutions.agentHistory(f.reviewer))).items).toEqual([]);
    });

    it('lists runs of a task or agent and status', async () => {
      const failures = await asUser((tx) => tx.taskExecutions.list({ agentId: agent, status: 'failure' }));
      expect(failures.items.map((r) => r.id).sort()).toEqual(
        runs
          .filter((_, i) => i % 3 === 0)
          .map((r) => r.id)
          .sort(),
      );
      const pages = await allPages(2, (page) =>
        asUser((tx) => tx.taskExecutions.list({ agentId: agent, status: ['success', 'failure'], ...page })),
      );
      expect(pages.flat()).toHaveLength(7);
      expect(
        (await h.store.withTenant(other.context, (tx) => tx.taskExecutions.list({ agentId: agent }))).items,
      ).toEqual([]);
    });

    it('reports cost per tenant, project, agent and model in one query, exact', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const report = await asUser((tx) => tx.taskExecutions.costReport({ from: yesterday, to: tomorrow }));
      const tenant = report.filter((row) => row.dimension === 'tenant');
      expect(tenant).toHaveLength(1);
      expect(tenant[0]!.costUsd).toBe((await asUser((tx) => tx.taskExecutions.tenantTotals())).costUsd);
      expect(report[0]!.dimension).toBe('tenant');
      const project = report.find((row) => row.dimension === 'project' && row.projectId === f.otherProjectId);
      const byAgent = report.find((row) => row.dimension === 'agent' && row.agentId === agent);
      const model = report.find((row) => row.dimension === 'model' && row.modelName === 'big-1');
      expect(byAgent).toMatchObject({
        projectId: null,
        executions: 7,
        succeeded: 4,
        failed: 3,
        inputTokens: 70,
        costUsd: '0.700000',
      });
      expect(model).toMatchObject({ modelProvider: 'acme', agentId: null, costUsd: '0.700000' });
      expect(project?.costUsd).toBe('0.700000');
      // The four dimensions each add up to the tenant's total.
      for (const dimension of ['project', 'agent', 'model'] as const) {
        const sum = report
          .filter((row) => row.dimension === dimension)
          .reduce((s, row) => s + micros(row.costUsd), 0n);
        expect(usd(sum), dimension).toBe(tenant[0]!.costUsd);
      }
      const agentsOnly = await asUser((tx) =>
        tx.taskExecutions.costReport({ from: today, to: tomorrow, groupBy: ['agent'] }),
      );
      expect(agentsOnly.every((row) => row.dimension === 'agent')).toBe(true);
      expect(agentsOnly.find((row) => row.agentId === agent)?.costUsd).toBe('0.700000');
      const empty = await asUser((tx) =>
        tx.taskExecutions.costReport({ from: '2020-01-01', to: '2020-02-01' }),
      );
      expect(empty).toEqual([
        expect.objectContaining({ dimension: 'tenant', executions: 0, costUsd: '0.000000' }),
      ]);
      expect(
        await caught(asUser((tx) => tx.taskExecutions.costReport({ from: today, to: today }))),
      ).toBeInstanceOf(ValidationError);
      expect(
        await caught(
          asUser((tx) =>
            tx.taskExecutions.costReport({ from: today, to: tomorrow, groupBy: ['task' as never] }),
          ),
        ),
      ).toBeInstanceOf(ValidationError);
      const theirs = await h.store.withTenant(other.context, (tx) =>
        tx.taskExecutions.costReport({ from: yesterday, to: tomorrow }),
      );
      expect(theirs.some((row) => row.agentId === agent)).toBe(false);
    });
  });
});

describeEachEngine(
  'task execution totals under concurrency',
  (h) => {
    it('adds 100 runs finishing at once on several connections exactly once each', async () => {
      const f = await createTimelineTenant(h);
      const taskIds = [await newTask(h, f), await newTask(h, f), await newTask(h, f)];
      const costs = Array.from(
        { length: 100 },
        (_, i) => `0.${String((i * 7919) % 1_000_000).padStart(6, '0')}`,
      );
      const runs = await h.store.withTenant(f.context, async (tx) => {
        const created: TaskExecution[] = [];
        for (let i = 0; i < 100; i++)
          created.push(
            await tx.taskExecutions.create({
              taskId: taskIds[i % 3]!,
              agentId: f.lead,
              status: 'running',
              costUsd: '0.1',
            }),
          );
        return created;
      });
      const stores = [
        h.store,
        await h.openAnother({ postgres: { max: 5 } }),
        await h.openAnother({ postgres: { max: 5 } }),
      ];
      await Promise.all(
        runs.map((run, i) =>
          stores[i % stores.length]!.withTenant(f.context, (tx) =>
            tx.taskExecutions.finish(run.id, { status: 'success', inputTokens: i, costUsd: costs[i]! }),
          ),
        ),
      );
      let tenantMicros = 0n;
      for (const [t, taskId] of taskIds.entries()) {
        const mine = runs.map((_, i) => i).filter((i) => i % 3 === t);
        const expected = mine.reduce((s, i) => s + micros('0.1') + micros(costs[i]!), 0n);
        tenantMicros += expected;
        const totals = await h.store.withTenant(f.context, (tx) => tx.taskExecutions.taskTotals(taskId));
        expect(totals).toMatchObject({
          executions: mine.length,
          succeeded: mine.length,
          inputTokens: mine.reduce((s, i) => s + i, 0),
          costUsd: usd(expected),
        });
      }
      const tenant = await h.store.withTenant(f.context, (tx) => tx.taskExecutions.tenantTotals());
      expect(tenant).toMatchObject({
        executions: 100,
        succeeded: 100,
        inputTokens: 4950,
        costUsd: usd(tenantMicros),
      });
    });
  },
  'server',
);
