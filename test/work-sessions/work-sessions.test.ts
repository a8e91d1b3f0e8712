import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  type Event,
  ForbiddenError,
  NotFoundError,
  type TenantTx,
  ValidationError,
  type WorkSession,
} from '../../src/index.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

async function sessionEvents(
  h: EngineHarness,
  sessionId: string,
): Promise<Array<{ type: string; author_id: string | null; payload: Record<string, unknown> }>> {
  return h.asOwner((c) =>
    c.query('SELECT type, author_id, payload FROM events WHERE session_id = $1 ORDER BY occurred_at, id', [
      sessionId,
    ]),
  );
}

describeEachEngine('work sessions', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  describe('lifecycle', () => {
    it('starts, logs, records tasks and stops, with the system events in the same transactions', async () => {
      const agent = await createAgent(h.store, f.tenant.id, { projectId: f.projectId });
      const { session, updates } = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId, metadata: { branch: 'feat/login' } }),
      );
      expect(session).toMatchObject({
        agentId: agent,
        projectId: f.projectId,
        status: 'started',
        stoppedAt: null,
        durationSeconds: null,
        tasksWorkedOn: [],
        metadata: { branch: 'feat/login' },
      });
      expect(updates).toEqual({ since: null, mentions: { items: [], nextCursor: null }, tasks: [] });

      const log = await asAgent(agent, (tx) =>
        tx.workSessions.log(session.id, {
          message: 'Implemented the form',
          context: { file: 'src/login.ts', progress: 50 },
        }),
      );
      expect(log).toMatchObject({
        type: 'session_log',
        sessionId: session.id,
        projectId: f.projectId,
        authorId: agent,
      });
      expect((await asUser((tx) => tx.workSessions.get(session.id))).status).toBe('logging');
      // A user (an operator tool) may log for the agent: the author is the session's agent.
      expect(
        (await asUser((tx) => tx.workSessions.log(session.id, { message: 'by the CEO' }))).authorId,
      ).toBe(agent);

      const task = randomUUID();
      const first = await asAgent(agent, (tx) => tx.workSessions.recordTask(session.id, task));
      const again = await asAgent(agent, (tx) => tx.workSessions.recordTask(session.id, task));
      const second = randomUUID();
      const both = await asAgent(agent, (tx) => tx.workSessions.recordTask(session.id, second));
      expect(first.tasksWorkedOn).toEqual([task]);
      expect(again.tasksWorkedOn).toEqual([task]);
      expect(both.tasksWorkedOn).toEqual([task, second]);

      const stopped = await asAgent(agent, (tx) => tx.workSessions.stop(session.id));
      expect(stopped.status).toBe('stopped');
      expect(stopped.stoppedAt).toBeInstanceOf(Date);
      expect(stopped.durationSeconds).toBeGreaterThanOrEqual(0);
      const timeline = await sessionEvents(h, session.id);
      expect(timeline.map((e) => e.type)).toEqual([
        'session_start',
        'session_log',
        'session_log',
        'session_stop',
      ]);
      expect(timeline[0]).toMatchObject({
        author_id: null,
        payload: {
          agentId: agent,
          previousSessionId: null,
          since: null,
          pulledUpdates: { mentions: 0, tasks: 0 },
        },
      });
      expect(timeline[3]).toMatchObject({
        author_id: null,
        payload: { agentId: agent, durationSeconds: stopped.durationSeconds, tasksWorkedOn: 2 },
      });
    });

    it('computes the duration in the database from the start to the stop', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      // The owner may write history (an import); application roles get the database's clock.
      const [row] = await h.asOwner((c) =>
        c.query<{ id: string }>(
          `INSERT INTO work_sessions (tenant_id, agent_id, project_id, started_at)
           VALUES ($1, $2, $3, now() - interval '90 minutes 30 seconds') RETURNING id`,
          [f.tenant.id, agent, f.projectId],
        ),
      );
      const stopped = await asUser((tx) => tx.workSessions.stop(row!.id));
      expect(stopped.durationSeconds).toBeGreaterThanOrEqual(5430);
      expect(stopped.durationSeconds).toBeLessThan(5430 + 120);
      const [forced] = await asUser((tx) =>
        tx.query<{ started_at: string }>(
          `INSERT INTO work_sessions (agent_id, project_id, started_at, status, stopped_at, duration_seconds)
           VALUES ($1, $2, '2000-01-01', 'stopped', '2000-01-02', 86400) RETURNING started_at, status`,
          [agent, f.projectId],
        ),
      );
      expect(forced).toMatchObject({ status: 'started' });
      expect(Math.abs(new Date(forced!.started_at).getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('returns what changed since the previous session: events mentioning the agent, newest first, bounded', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const mention = (message: string) =>
        asAgent(f.lead, (tx) =>
          tx.events.append({ type: 'advice_given', payload: { message }, mentions: [agent] }),
        );
      await mention('before the first session');
      const { session } = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      await mention('during the session');
      // Written in the stop's own transaction, at its very time: not news to the next session.
      const stopped = await asAgent(agent, async (tx) => {
        await tx.events.append({
          type: 'advice_given',
          payload: { message: 'on my way out' },
          mentions: [agent],
        });
        return tx.workSessions.stop(session.id);
      });
      const after: Event[] = [];
      for (const text of ['one', 'two', 'three']) after.push(await mention(text));
      await asAgent(f.lead, (tx) =>
        tx.events.append({ type: 'advice_given', payload: { message: 'not for it' }, mentions: [f.dev] }),
      );

      // A page of exactly the three news: what the stop's own transaction wrote shares the stop's
      // time (to the microsecond) and is left out, so no further page is announced.
      const next = await asAgent(agent, (tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId, updatesLimit: 3 }),
      );
      expect(next.updates.since).toEqual(stopped.stoppedAt);
      expect(next.updates.mentions).toEqual({ items: [...after].reverse(), nextCursor: null });
      expect(next.updates.tasks).toEqual([]);
      const [start] = (await sessionEvents(h, next.session.id)).filter((e) => e.type === 'session_start');
      expect(start?.payload).toMatchObject({
        previousSessionId: session.id,
        pulledUpdates: { mentions: 3, tasks: 0 },
      });
      await asAgent(agent, (tx) => tx.workSessions.stop(next.session.id));
    });
  });

  describe('rules the database keeps', () => {
    it('allows one open session per agent (session_open), through the repository and raw SQL', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asUser((tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      const before = await ownerCount(h, 'work_sessions WHERE agent_id = $1', [agent]);
      const again = await caught(
        asUser((tx) => tx.workSessions.start({ agentId: agent, projectId: f.otherProjectId })),
      );
      expect(again).toBeInstanceOf(ConflictError);
      expect(again).toMatchObject({ code: 'session_open', entity: 'work session', field: 'agentId' });
      const raw = await caught(
        asUser((tx) =>
          tx.query('INSERT INTO work_sessions (agent_id, project_id) VALUES ($1, $2)', [agent, f.projectId]),
        ),
      );
      expect(raw).toMatchObject({ code: 'session_open' });
      expect(await ownerCount(h, 'work_sessions WHERE agent_id = $1', [agent])).toBe(before);
      await asUser((tx) => tx.workSessions.stop(session.id));
      // Stopped, the next one may start.
      await asUser((tx) => tx.workSessions.start({ agentId: agent, projectId: f.projectId }));
    });

    it('freezes a stopped session against every change, raw SQL of the app and service roles included', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asUser((tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      const stopped = await asUser((tx) => tx.workSessions.stop(session.id));
      const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
        ['stop again', (tx) => tx.workSessions.stop(session.id)],
        ['log', (tx) => tx.workSessions.log(session.id, { message: 'late' })],
        ['record a task', (tx) => tx.workSessions.recordTask(session.id, randomUUID())],
        [
          'raw log',
          (tx) =>
            tx.events.append({
              type: 'session_log',
              sessionId: session.id,
              authorId: agent,
              payload: { message: 'late' },
            }),
        ],
        [
          'raw reopen',
          (tx) => tx.query(`UPDATE work_sessions SET status = 'logging' WHERE id = $1`, [session.id]),
        ],
        [
          'raw metadata',
          (tx) => tx.query(`UPDATE work_sessions SET metadata = '{"x":1}' WHERE id = $1`, [session.id]),
        ],
      ];
      for (const [label, attempt] of attempts) {
        const error = await caught(asUser(attempt));
        expect(error, label).toBeInstanceOf(ConflictError);
        expect(error, label).toMatchObject({ code: 'session_stopped' });
      }
      const asService = await caught(
        h.store.asService({ actor: 'test' }, (svc) =>
          svc.query(`UPDATE work_sessions SET duration_seconds = 1 WHERE id = $1`, [session.id]),
        ),
      );
      expect(asService).toMatchObject({ code: 'session_stopped' });
      expect(await asUser((tx) => tx.workSessions.get(session.id))).toEqual(stopped);
      expect((await sessionEvents(h, session.id)).map((e) => e.type)).toEqual([
        'session_start',
        'session_stop',
      ]);
    });

    it('keeps the status moving forward and the agent, project, start and tasks fixed', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asUser((tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      await asUser((tx) => tx.workSessions.log(session.id, { message: 'working' }));
      await asUser((tx) => tx.workSessions.recordTask(session.id, randomUUID()));
      const back = await caught(
        asUser((tx) => tx.query(`UPDATE work_sessions SET status = 'started' WHERE id = $1`, [session.id])),
      );
      expect(back).toMatchObject({ code: 'invalid_transition', entity: 'work session' });
      const changes: Array<[string, unknown[]]> = [
        ['agent_id = $2::uuid', [f.lead]],
        ['project_id = $2::uuid', [f.otherProjectId]],
        [`started_at = started_at - interval '1 hour'`, []],
        [`tasks_worked_on = '{}'`, []],
        ['tasks_worked_on = tasks_worked_on || tasks_worked_on', []],
      ];
      for (const [assignment, params] of changes) {
        const error = await caught(
          asUser((tx) =>
            tx.query(`UPDATE work_sessions SET ${assignment} WHERE id = $1`, [session.id, ...params]),
          ),
        );
        expect(error, assignment).toBeInstanceOf(ValidationError);
      }
      // A stop time given by the caller is replaced by the database's.
      const [row] = await asUser((tx) =>
        tx.query<{ stopped_at: string; duration_seconds: number }>(
          `UPDATE work_sessions SET status = 'stopped', stopped_at = '2000-01-01', duration_seconds = 999999 WHERE id = $1 RETURNING stopped_at, duration_seconds`,
          [session.id],
        ),
      );
      expect(new Date(row!.stopped_at).getFullYear()).toBeGreaterThan(2000);
      expect(row!.duration_seconds).toBeLessThan(999999);
    });

    it('lets an agent start, log in and stop only its own sessions', async () => {
      const mine = await createAgent(h.store, f.tenant.id);
      const theirs = await createAgent(h.store, f.tenant.id);
      const { session } = await asUser((tx) =>
        tx.workSessions.start({ agentId: theirs, projectId: f.projectId }),
      );
      const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
        ['start', (tx) => tx.workSessions.start({ agentId: theirs, projectId: f.projectId })],
        ['log', (tx) => tx.workSessions.log(session.id, { message: 'as another' })],
        ['stop', (tx) => tx.workSessions.stop(session.id)],
        ['record a task', (tx) => tx.workSessions.recordTask(session.id, randomUUID())],
        [
          'raw start',
          (tx) =>
            tx.query('INSERT INTO work_sessions (agent_id, project_id) VALUES ($1, $2)', [
              theirs,
              f.projectId,
            ]),
        ],
      ];
      for (const [label, attempt] of attempts) {
        expect(await caught(asAgent(mine, attempt)), label).toBeInstanceOf(ForbiddenError);
      }
      // Its own session, on the other hand, with its own events only.
      const own = await asAgent(mine, (tx) =>
        tx.workSessions.start({ agentId: mine, projectId: f.projectId }),
      );
      const foreignLog = await caught(
        asUser((tx) =>
          tx.events.append({
            type: 'session_log',
            sessionId: own.session.id,
            authorId: theirs,
            payload: { message: 'x' },
          }),
        ),
      );
      expect(foreignLog).toBeInstanceOf(ValidationError);
      const wrongProject = await caught(
        asUser((tx) =>
          tx.events.append({
            type: 'session_log',
            sessionId: own.session.id,
            projectId: f.otherProjectId,
            authorId: mine,
            payload: { message: 'x' },
          }),
        ),
      );
      expect(wrongProject).toBeInstanceOf(ValidationError);
      expect((await asUser((tx) => tx.workSessions.get(session.id))).status).toBe('started');
    });

    it('refuses a session to a terminated, deleted, unknown or other tenant agent, or outside its project', async () => {
      const terminated = await createAgent(h.store, f.tenant.id);
      const deleted = await createAgent(h.store, f.tenant.id);
      await h.asOwner(async (c) => {
        await c.query(`UPDATE agents SET status = 'terminated', terminated_at = now() WHERE id = $1`, [
          terminated,
        ]);
        await c.query('UPDATE agents SET deleted_at = now() WHERE id = $1', [deleted]);
      });
      const start = (agentId: string, projectId = f.projectId) =>
        caught(asUser((tx) => tx.workSessions.start({ agentId, projectId })));
      expect(await start(terminated)).toMatchObject({ code: 'agent_unavailable', entity: 'agent' });
      expect(await start(deleted)).toMatchObject({ code: 'not_found', entity: 'agent', key: deleted });
      expect(await start(randomUUID())).toMatchObject({ code: 'not_found', entity: 'agent' });
      expect(await start(other.dev)).toMatchObject({ code: 'not_found', entity: 'agent' });
      expect(await start(f.lead, other.projectId)).toMatchObject({ code: 'not_found', entity: 'project' });
      const outside = await start(f.dev, f.otherProjectId);
      expect(outside).toBeInstanceOf(ValidationError);
      expect((outside as ValidationError).issues[0]?.path).toBe('project_id');
      expect(
        await ownerCount(h, 'work_sessions WHERE agent_id = ANY ($1::uuid[])', [[terminated, deleted]]),
      ).toBe(0);
    });

    it('gives no application role DELETE on sessions (their events are append-only)', async () => {
      const agent = await createAgent(h.store, f.tenant.id);
      const { session } = await asUser((tx) =>
        tx.workSessions.start({ agentId: agent, projectId: f.projectId }),
      );
      for (const run of [
        () => asUser((tx) => tx.query('DELETE FROM work_sessions WHERE id = $1', [session.id])),
        () =>
          h.store.asService({ actor: 'test' }, (svc) =>
            svc.query('DELETE FROM work_sessions WHERE id = $1', [session.id]),
          ),
      ]) {
        expect(await caught(run())).toBeInstanceOf(ForbiddenError);
      }
      expect(await ownerCount(h, 'events WHERE session_id = $1', [session.id])).toBe(1);
    });

    it('refuses bad input with typed errors and writes nothing', async () => {
      const before = await ownerCount(h, 'work_sessions WHERE tenant_id = $1', [f.tenant.id]);
      const cases: Array<[(tx: TenantTx) => Promise<unknown>, string]> = [
        [(tx) => tx.workSessions.start({ agentId: 'dev', projectId: f.projectId }), 'agentId'],
        [
          (tx) => tx.workSessions.start({ agentId: f.lead, projectId: f.projectId, metadata: [] as never }),
          'metadata',
        ],
        [
          (tx) => tx.workSessions.start({ agentId: f.lead, projectId: f.projectId, updatesLimit: 0 }),
          'updatesLimit',
        ],
        [
          (tx) =>
            tx.workSessions.start({ agentId: f.lead, projectId: f.projectId, status: 'stopped' } as never),
          '(input)',
        ],
        [(tx) => tx.workSessions.log(randomUUID(), { message: '' }), 'message'],
        [(tx) => tx.workSessions.log('nope', { message: 'x' }), '(input)'],
        [(tx) => tx.workSessions.recordTask(randomUUID(), 'task-1'), '(input)'],
        [(tx) => tx.workSessions.list({ status: 'paused' } as never), 'status'],
      ];
      for (const [attempt, path] of cases) {
        const error = await caught(asUser(attempt));
        expect(error, path).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
      }
      const missing: Array<(tx: TenantTx) => Promise<unknown>> = [
        (tx) => tx.workSessions.get(randomUUID()),
        (tx) => tx.workSessions.stop(randomUUID()),
        (tx) => tx.workSessions.log(randomUUID(), { message: 'x' }),
      ];
      for (const attempt of missing) {
        expect(await caught(asUser(attempt))).toBeInstanceOf(NotFoundError);
      }
      expect(await ownerCount(h, 'work_sessions WHERE tenant_id = $1', [f.tenant.id])).toBe(before);
    });
  });

  describe('list', () => {
    it('pages by agent and by project, newest first, sessions of one transaction included', async () => {
      const t = await createTimelineTenant(h);
      const agents = [
        t.lead,
        t.reviewer,
        ...(await Promise.all([1, 2, 3, 4, 5].map(() => createAgent(h.store, t.tenant.id)))),
      ];
      const all: WorkSession[] = [];
      for (let round = 0; round < 3; round++) {
        // One transaction per round: its sessions share started_at.
        all.push(
          ...(await h.store.withTenant(t.context, async (tx) => {
            const rows: WorkSession[] = [];
            for (const agentId of agents) {
              const { session } = await tx.workSessions.start({
                agentId,
                projectId: round === 1 ? t.otherProjectId : t.projectId,
              });
              rows.push(await tx.workSessions.stop(session.id));
            }
            return rows;
          })),
        );
      }
      const newest = (rows: WorkSession[]) =>
        [...rows]
          .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : -1))
          .map((s) => s.id);
      const page = (filter: object) =>
        h.store.withTenant(t.context, (tx) => allPages(4, (p) => tx.workSessions.list({ ...filter, ...p })));
      expect((await page({})).flat().map((s) => s.id)).toEqual(newest(all));
      expect((await page({ agentId: t.lead })).flat().map((s) => s.id)).toEqual(
        newest(all.filter((s) => s.agentId === t.lead)),
      );
      expect((await page({ projectId: t.otherProjectId })).flat().map((s) => s.id)).toEqual(
        newest(all.filter((s) => s.projectId === t.otherProjectId)),
      );
      expect((await page({ status: 'started' })).flat()).toEqual([]);
      expect(
        (await h.store.withTenant(other.context, (tx) => tx.workSessions.list({ agentId: t.lead }))).items,
      ).toEqual([]);
    });
  });
});

describeEachEngine(
  'work sessions under concurrency',
  (h) => {
    it('lets exactly one of 50 concurrent starts for one agent succeed; the others get session_open', async () => {
      const t = await createTimelineTenant(h);
      const store = await h.openAnother({ postgres: { max: 50 } });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () =>
          store.withTenant(t.asAgent(t.lead), (tx) =>
            tx.workSessions.start({ agentId: t.lead, projectId: t.projectId }),
          ),
        ),
      );
      const refused = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(refused).toHaveLength(49);
      for (const error of refused) expect(error).toMatchObject({ code: 'session_open' });
      expect(await ownerCount(h, 'work_sessions WHERE agent_id = $1', [t.lead])).toBe(1);
      expect(
        await ownerCount(h, `events WHERE type = 'session_start' AND tenant_id = $1`, [t.tenant.id]),
      ).toBe(1);
    });
  },
  'server',
);
