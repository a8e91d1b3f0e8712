import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { tailEvents } from '../../src/cli/events-tail.ts';
import {
  type AppendEventInput,
  ConflictError,
  EVENT_TYPES,
  type Event,
  ForbiddenError,
  NotFoundError,
  SYSTEM_EVENT_TYPES,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createTimelineTenant, type TimelineFixture } from './timeline-fixtures.ts';

/** A realistic event of every type an agent writes (the system types are the database's). */
function sampleEvents(f: TimelineFixture): AppendEventInput[] {
  const taskId = randomUUID();
  const pr = { repository: 'acme/web', number: 42, url: 'https://github.com/acme/web/pull/42' };
  return [
    {
      type: 'task_assigned',
      payload: { taskId, title: 'Login form', priority: 'P1', deadline: '2026-02-01T00:00:00Z' },
      mentions: [f.dev],
    },
    { type: 'task_completed', payload: { taskId, summary: 'Done', durationMinutes: 90 } },
    { type: 'task_blocked', payload: { taskId, reason: 'Waiting for the API', blockedBy: [randomUUID()] } },
    { type: 'problem_report', payload: { title: 'Flaky test', severity: 'medium', taskId } },
    {
      type: 'advice_given',
      payload: { message: 'Mock the clock', topic: 'testing' },
      mentions: [f.reviewer],
    },
    { type: 'question_asked', payload: { question: 'Which OAuth provider?', taskId } },
    {
      type: 'review_requested',
      payload: { title: 'Login form', url: pr.url, pullRequestNumber: 42, reviewerIds: [f.reviewer] },
      mentions: [f.reviewer],
    },
    {
      type: 'review_response',
      payload: { verdict: 'changes_requested', comment: 'Add a test', pullRequestNumber: 42 },
    },
    { type: 'github_pr_opened', payload: { ...pr, title: 'Login form', branch: 'feat/login' } },
    { type: 'github_pr_merged', payload: { ...pr, mergeCommitSha: 'a'.repeat(40) } },
    {
      type: 'github_issue_assigned',
      payload: {
        ...pr,
        number: 7,
        url: 'https://github.com/acme/web/issues/7',
        title: 'Bug',
        assignee: 'dev',
      },
    },
    {
      type: 'wiki_contribution',
      payload: { entryId: randomUUID(), title: 'Auth', content: '# Auth', status: 'pending_approval' },
    },
  ];
}

async function eventCount(h: EngineHarness, tenantId: string): Promise<number> {
  return ownerCount(h, 'events WHERE tenant_id = $1', [tenantId]);
}

describeEachEngine('events', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
  });

  describe('append', () => {
    it('appends every agent-written type with its payload; an agent authors its own events', async () => {
      const samples = sampleEvents(f);
      expect(new Set(samples.map((s) => s.type)).size + SYSTEM_EVENT_TYPES.length + 1).toBe(
        EVENT_TYPES.length,
      );
      const written = await asAgent(f.lead, async (tx) => {
        const rows: Event[] = [];
        for (const sample of samples)
          rows.push(await tx.events.append({ ...sample, projectId: f.projectId }));
        return rows;
      });
      for (const [i, row] of written.entries()) {
        expect(row).toMatchObject({ type: samples[i]!.type, payload: samples[i]!.payload, authorId: f.lead });
        expect(row.tenantId).toBe(f.tenant.id);
        expect(row.mentions).toEqual(samples[i]!.mentions ?? []);
      }
      // One transaction, one time.
      expect(new Set(written.map((row) => row.occurredAt.getTime())).size).toBe(1);
      const again = await asUser((tx) => tx.events.get(written[3]!.id));
      expect(again).toEqual(written[3]);
    });

    it('lets a user write for an agent of the tenant, and requires an author for a non-system event', async () => {
      const row = await asUser((tx) =>
        tx.events.append({ type: 'question_asked', payload: { question: 'Why?' }, authorId: f.reviewer }),
      );
      expect(row.authorId).toBe(f.reviewer);
      const before = await eventCount(h, f.tenant.id);
      const error = await caught(
        asUser((tx) => tx.events.append({ type: 'question_asked', payload: { question: 'Who?' } })),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(/events_system_author/);
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('refuses an unknown type or a malformed payload, naming the field, and writes nothing', async () => {
      const before = await eventCount(h, f.tenant.id);
      const cases: Array<[unknown, string]> = [
        [{ type: 'coffee_break', payload: {} }, 'type'],
        [{ payload: { message: 'x' } }, 'type'],
        [{ type: 'session_log', payload: { message: '' }, sessionId: randomUUID() }, 'payload.message'],
        [
          { type: 'session_log', payload: { message: 'x'.repeat(10_001) }, sessionId: randomUUID() },
          'payload.message',
        ],
        [
          { type: 'session_log', payload: { message: 'ok', context: { progress: 101 } } },
          'payload.context.progress',
        ],
        [
          { type: 'task_assigned', payload: { taskId: 'nope', title: 'T', priority: 'P1' } },
          'payload.taskId',
        ],
        [
          { type: 'task_assigned', payload: { taskId: randomUUID(), title: 'T', priority: 'P9' } },
          'payload.priority',
        ],
        [{ type: 'problem_report', payload: { title: 'T', severity: 'low', extra: 1 } }, 'payload'],
        [
          {
            type: 'github_pr_opened',
            payload: { repository: 'acme/web', number: 1, title: 'T', url: 'javascript:alert(1)' },
          },
          'payload.url',
        ],
        [{ type: 'question_asked', payload: { question: 'a\u0000b' } }, 'payload.question'],
        [{ type: 'question_asked', payload: { question: 'q' }, mentions: [f.dev, f.dev] }, 'mentions'],
        [
          {
            type: 'question_asked',
            payload: { question: 'q' },
            mentions: Array.from({ length: 101 }, randomUUID),
          },
          'mentions',
        ],
        [
          { type: 'question_asked', payload: { question: 'q' }, metadata: { blob: 'x'.repeat(17_000) } },
          'metadata',
        ],
        [{ type: 'question_asked', payload: { question: 'q' }, occurredAt: new Date(0) }, '(input)'],
        [{ type: 'question_asked', payload: { question: 'q' }, authorId: 'me' }, 'authorId'],
      ];
      for (const [input, path] of cases) {
        const error = await caught(asAgent(f.lead, (tx) => tx.events.append(input as AppendEventInput)));
        expect(error, JSON.stringify(input).slice(0, 80)).toBeInstanceOf(ValidationError);
        expect(
          (error as ValidationError).issues.map((i) => i.path),
          path,
        ).toContain(path);
      }
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('refuses system types to every caller: repository, app role and service role raw SQL', async () => {
      const before = await eventCount(h, f.tenant.id);
      const payloads: Record<(typeof SYSTEM_EVENT_TYPES)[number], object> = {
        session_start: {
          agentId: f.dev,
          previousSessionId: null,
          since: null,
          pulledUpdates: { mentions: 0, tasks: 0 },
        },
        session_stop: { agentId: f.dev, durationSeconds: 1, tasksWorkedOn: 0 },
        kpi_updated: { agentId: f.dev, previousKPIs: null, newKPIs: { tasksCompleted: 1 } },
        trust_score_changed: { agentId: f.dev, previous: 50, new: 55, formulaVersion: 'trust-v1' },
      };
      for (const type of SYSTEM_EVENT_TYPES) {
        const input = { type, payload: payloads[type], sessionId: randomUUID() } as AppendEventInput;
        const error = await caught(asUser((tx) => tx.events.append(input)));
        expect(error, type).toBeInstanceOf(ForbiddenError);
        const raw = `INSERT INTO events (tenant_id, type, payload) VALUES ($1, $2, '{}')`;
        expect(await caught(asUser((tx) => tx.query(raw, [f.tenant.id, type]))), type).toBeInstanceOf(
          ForbiddenError,
        );
        const asService = h.store.asService({ actor: 'test' }, (svc) => svc.query(raw, [f.tenant.id, type]));
        expect(await caught(asService), type).toBeInstanceOf(ForbiddenError);
      }
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('keeps an agent from writing as another agent, through the repository or raw SQL', async () => {
      const before = await eventCount(h, f.tenant.id);
      const forged = await caught(
        asAgent(f.dev, (tx) =>
          tx.events.append({ type: 'advice_given', payload: { message: 'x' }, authorId: f.lead }),
        ),
      );
      expect(forged).toBeInstanceOf(ForbiddenError);
      const raw = await caught(
        asAgent(f.dev, (tx) =>
          tx.query(
            `INSERT INTO events (type, author_id, payload) VALUES ('advice_given', $1, '{"message":"x"}')`,
            [f.lead],
          ),
        ),
      );
      expect(raw).toBeInstanceOf(ForbiddenError);
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('keeps event ids the database’s: OVERRIDING SYSTEM VALUE is refused to app and service roles', async () => {
      const [existing] = await asUser((tx) =>
        tx.query<{ id: string }>(
          `INSERT INTO events (type, author_id, payload) VALUES ('question_asked', $1, '{"question":"q"}') RETURNING id`,
          [f.lead],
        ),
      );
      const before = await eventCount(h, f.tenant.id);
      // A fresh id, and another event's: both refused, whether or not this session drew an id before.
      for (const id of [Number(existing!.id) + 1_000_000, Number(existing!.id)]) {
        const forge = `INSERT INTO events (id, tenant_id, type, author_id, payload) OVERRIDING SYSTEM VALUE
                       VALUES ($1, $2, 'question_asked', $3, '{"question":"q"}')`;
        const params = [id, f.tenant.id, f.lead];
        expect(await caught(asUser((tx) => tx.query(forge, params))), String(id)).toBeInstanceOf(
          ForbiddenError,
        );
        const viaService = h.store.asService({ actor: 'test' }, (svc) => svc.query(forge, params));
        expect(await caught(viaService), String(id)).toBeInstanceOf(ForbiddenError);
      }
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('stamps the database time on an application write, whatever the caller gives', async () => {
      const [row] = await asUser((tx) =>
        tx.query<{ occurred_at: Date }>(
          `INSERT INTO events (type, author_id, payload, occurred_at)
           VALUES ('question_asked', $1, '{"question":"q"}', '2000-01-01') RETURNING occurred_at`,
          [f.lead],
        ),
      );
      expect(Math.abs(new Date(row!.occurred_at).getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('refuses mentions and authors that are not live agents of the tenant', async () => {
      const before = await eventCount(h, f.tenant.id);
      const mentionOther = await caught(
        asUser((tx) =>
          tx.events.append({
            type: 'advice_given',
            payload: { message: 'x' },
            authorId: f.lead,
            mentions: [other.dev],
          }),
        ),
      );
      expect(mentionOther).toBeInstanceOf(NotFoundError);
      expect(mentionOther).toMatchObject({ entity: 'agent', key: other.dev });
      const unknown = randomUUID();
      expect(
        await caught(
          asUser((tx) =>
            tx.events.append({
              type: 'advice_given',
              payload: { message: 'x' },
              authorId: f.lead,
              mentions: [unknown],
            }),
          ),
        ),
      ).toMatchObject({ entity: 'agent', key: unknown });
      const authorOther = await caught(
        asUser((tx) =>
          tx.events.append({ type: 'advice_given', payload: { message: 'x' }, authorId: other.dev }),
        ),
      );
      expect(authorOther).toBeInstanceOf(NotFoundError);
      const gone = await createAgent(h.store, f.tenant.id);
      await h.asOwner((c) =>
        c.query(`UPDATE agents SET status = 'terminated', terminated_at = now() WHERE id = $1`, [gone]),
      );
      const terminated = await caught(
        asUser((tx) => tx.events.append({ type: 'advice_given', payload: { message: 'x' }, authorId: gone })),
      );
      expect(terminated).toBeInstanceOf(ConflictError);
      expect(terminated).toMatchObject({ code: 'agent_unavailable' });
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });

    it('is append-only: UPDATE, DELETE and TRUNCATE are refused to the app and the service role', async () => {
      const event = await asUser((tx) =>
        tx.events.append({
          type: 'question_asked',
          payload: { question: 'q' },
          authorId: f.lead,
          mentions: [f.dev],
        }),
      );
      const before = await eventCount(h, f.tenant.id);
      const statements = [
        [`UPDATE events SET payload = '{"question":"changed"}' WHERE id = $1`, [event.id]],
        ['DELETE FROM events WHERE id = $1', [event.id]],
        ['TRUNCATE events', []],
      ] as const;
      for (const [text, params] of statements) {
        expect(await caught(asUser((tx) => tx.query(text, [...params]))), text).toBeInstanceOf(
          ForbiddenError,
        );
        expect(
          await caught(h.store.asService({ actor: 'test' }, (svc) => svc.query(text, [...params]))),
          text,
        ).toBeInstanceOf(ForbiddenError);
      }
      // Even the owner, bypassing row-level security, cannot update or truncate (the mention index alike).
      const asOwner: Array<[string, unknown[]]> = [
        [`UPDATE events SET payload = '{}' WHERE id = $1`, [event.id]],
        ['UPDATE event_mentions SET agent_id = agent_id', []],
        ['TRUNCATE events, event_mentions', []],
      ];
      for (const [text, params] of asOwner) {
        const error = await caught(h.asOwner((c) => c.query(text, params)));
        expect((error as { kind?: string }).kind, text).toBe('insufficient_privilege');
      }
      for (const text of [
        'INSERT INTO event_mentions SELECT tenant_id, $1::uuid, occurred_at, id FROM events',
        'DELETE FROM event_mentions',
      ]) {
        expect(
          await caught(asUser((tx) => tx.query(text, text.includes('$1') ? [f.dev] : []))),
          text,
        ).toBeInstanceOf(ForbiddenError);
      }
      expect(await eventCount(h, f.tenant.id)).toBe(before);
      expect(await asUser((tx) => tx.events.get(event.id))).toEqual(event);
    });
  });

  describe('appendBatch', () => {
    it('writes up to 1,000 events in input order, in one transaction time', async () => {
      const batch = Array.from({ length: 1000 }, (_, i) => ({
        type: 'advice_given' as const,
        payload: { message: `tip ${i}` },
        mentions: i % 10 === 0 ? [f.dev] : [],
      }));
      const rows = await asAgent(f.reviewer, (tx) => tx.events.appendBatch(batch));
      expect(rows.map((row) => (row.payload as { message: string }).message)).toEqual(
        batch.map((e) => e.payload.message),
      );
      expect(new Set(rows.map((row) => row.occurredAt.getTime())).size).toBe(1);
      expect(rows.every((row) => row.authorId === f.reviewer)).toBe(true);
      // What the batch returns is what was stored, read back whole.
      const stored = await asUser((tx) =>
        Promise.all([rows[0]!, rows[10]!, rows[999]!].map((row) => tx.events.get(row.id))),
      );
      expect(stored).toEqual([rows[0], rows[10], rows[999]]);
    });

    it('returns the project and author the database filled in, as stored', async () => {
      const { session } = await asAgent(f.dev, (tx) =>
        tx.workSessions.start({ agentId: f.dev, projectId: f.projectId }),
      );
      const rows = await asAgent(f.dev, (tx) =>
        tx.events.appendBatch([
          { type: 'session_log', sessionId: session.id, payload: { message: 'one' }, metadata: { k: 1 } },
          { type: 'advice_given', payload: { message: 'two' }, mentions: [f.reviewer] },
        ]),
      );
      await asAgent(f.dev, (tx) => tx.workSessions.stop(session.id));
      expect(rows.map((row) => [row.projectId, row.authorId])).toEqual([
        [f.projectId, f.dev],
        [null, f.dev],
      ]);
      expect(await asUser((tx) => Promise.all(rows.map((row) => tx.events.get(row.id))))).toEqual(rows);
    });

    it('writes nothing when one event is refused, by the contract or by the database', async () => {
      const before = await eventCount(h, f.tenant.id);
      const good = { type: 'advice_given' as const, payload: { message: 'ok' } };
      const contract = await caught(
        asAgent(f.reviewer, (tx) =>
          tx.events.appendBatch([good, { type: 'advice_given', payload: { message: 1 } } as never]),
        ),
      );
      expect(contract).toBeInstanceOf(ValidationError);
      expect((contract as ValidationError).issues[0]?.path).toBe('1.payload.message');
      const database = await caught(
        asAgent(f.reviewer, (tx) =>
          tx.events.appendBatch([good, good, { ...good, mentions: [randomUUID()] }]),
        ),
      );
      expect(database).toBeInstanceOf(NotFoundError);
      expect(await caught(asUser((tx) => tx.events.appendBatch([])))).toBeInstanceOf(ValidationError);
      expect(
        await caught(asUser((tx) => tx.events.appendBatch(Array.from({ length: 1001 }, () => good)))),
      ).toBeInstanceOf(ValidationError);
      expect(await eventCount(h, f.tenant.id)).toBe(before);
    });
  });

  describe('list', () => {
    let t: TimelineFixture;
    let written: Event[];

    beforeAll(async () => {
      t = await createTimelineTenant(h);
      // Three transactions: each batch's events share one occurred_at (ties on the time).
      written = [];
      for (const [agent, project, n] of [
        [t.dev, t.projectId, 23],
        [t.lead, t.otherProjectId, 17],
        [t.reviewer, t.projectId, 11],
      ] as const) {
        written.push(
          ...(await h.store.withTenant(t.asAgent(agent), (tx) =>
            tx.events.appendBatch(
              Array.from(
                { length: n },
                (_, i): AppendEventInput => ({
                  ...(i % 2 === 0
                    ? { type: 'question_asked', payload: { question: `q${i}` } }
                    : { type: 'advice_given', payload: { message: `m${i}` } }),
                  projectId: project,
                  mentions: i % 3 === 0 ? [t.lead === agent ? t.dev : t.lead] : [],
                }),
              ),
            ),
          )),
        );
      }
    });

    const newestFirst = (rows: Event[]) =>
      [...rows]
        .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || b.id - a.id)
        .map((e) => e.id);
    const ids = (pages: Event[][]) => pages.flat().map((e) => e.id);

    it('pages the whole timeline newest first, ties included, each event once', async () => {
      for (const limit of [1, 7, 50, 51, 1000]) {
        const pages = await h.store.withTenant(t.context, (tx) =>
          allPages(limit, (page) => tx.events.list(page)),
        );
        expect(ids(pages), `limit ${limit}`).toEqual(newestFirst(written));
      }
    });

    it('filters by project, author, type(s), mention and time range', async () => {
      const cases: Array<[Parameters<TenantTx['events']['list']>[0], (e: Event) => boolean]> = [
        [{ projectId: t.projectId }, (e) => e.projectId === t.projectId],
        [{ authorId: t.lead }, (e) => e.authorId === t.lead],
        [{ type: 'advice_given' }, (e) => e.type === 'advice_given'],
        [{ type: ['advice_given', 'question_asked'] }, () => true],
        [{ mention: t.lead }, (e) => e.mentions.includes(t.lead)],
        [{ mention: t.dev, projectId: t.otherProjectId }, (e) => e.mentions.includes(t.dev)],
        [{ from: written[23]!.occurredAt.toISOString() }, (e) => e.occurredAt >= written[23]!.occurredAt],
        [{ to: written[23]!.occurredAt }, (e) => e.occurredAt < written[23]!.occurredAt],
        [{ type: 'session_log' }, () => false],
      ];
      for (const [filter, matches] of cases) {
        const pages = await h.store.withTenant(t.context, (tx) =>
          allPages(5, (page) => tx.events.list({ ...filter, ...page })),
        );
        expect(ids(pages), JSON.stringify(filter)).toEqual(newestFirst(written.filter(matches)));
      }
    });

    it('shows another tenant nothing, and refuses bad filters and cursors', async () => {
      const page = await h.store.withTenant(other.context, (tx) =>
        tx.events.list({ projectId: t.projectId }),
      );
      expect(page.items).toEqual([]);
      expect(
        await caught(h.store.withTenant(other.context, (tx) => tx.events.get(written[0]!.id))),
      ).toBeInstanceOf(NotFoundError);
      const bad: Array<[unknown, string]> = [
        [{ cursor: 'not a cursor!' }, 'cursor'],
        [{ cursor: encodeCursor('projects', ['web', randomUUID()]) }, 'cursor'],
        [{ cursor: encodeCursor('events', ['yesterday', 1]) }, 'cursor'],
        [{ type: 'nap' }, 'type'],
        [{ type: [] }, 'type'],
        [{ mention: 'lead' }, 'mention'],
        [{ from: 'monday' }, 'from'],
        [{ limit: 1001 }, 'limit'],
        [{ tenantId: randomUUID() }, '(input)'],
      ];
      for (const [input, path] of bad) {
        const error = await caught(h.store.withTenant(t.context, (tx) => tx.events.list(input as never)));
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
      }
      expect(await caught(h.store.withTenant(t.context, (tx) => tx.events.get(0)))).toBeInstanceOf(
        ValidationError,
      );
    });
  });
});

describeEachEngine(
  'events under concurrent appends',
  (h) => {
    it('pages every event committed before paging began exactly once while others append', async () => {
      const t = await createTimelineTenant(h);
      const seeded: Event[] = [];
      for (let round = 0; round < 4; round++) {
        seeded.push(
          ...(await h.store.withTenant(t.asAgent(t.dev), (tx) =>
            tx.events.appendBatch(
              Array.from({ length: 50 }, (_, i) => ({
                type: 'advice_given' as const,
                payload: { message: `${round}.${i}` },
              })),
            ),
          )),
        );
      }
      let appending = true;
      const writers = [t.lead, t.reviewer].map(async (agent) => {
        let n = 0;
        while (appending) {
          await h.store.withTenant(t.asAgent(agent), (tx) =>
            tx.events.appendBatch(
              Array.from({ length: 3 }, () => ({
                type: 'advice_given' as const,
                payload: { message: `w${n++}` },
              })),
            ),
          );
        }
        return n;
      });
      const seen: number[] = [];
      try {
        let cursor: string | undefined;
        do {
          const page = await h.store.withTenant(t.context, (tx) =>
            tx.events.list(cursor === undefined ? { limit: 9 } : { limit: 9, cursor }),
          );
          seen.push(...page.items.map((e) => e.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
      } finally {
        appending = false;
      }
      const appended = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
      expect(appended).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      const seenSet = new Set(seen);
      expect(seeded.filter((e) => !seenSet.has(e.id))).toEqual([]);
    });
  },
  'server',
);

describeEachEngine('agentflow events tail', (h) => {
  it('prints the newest events oldest first, one line each, and follows new ones until stopped', async () => {
    const t = await createTimelineTenant(h);
    const codes = await h.asOwner((c) =>
      c.query<{ id: string; code: string }>('SELECT id, code FROM agents WHERE tenant_id = $1', [
        t.tenant.id,
      ]),
    );
    const codeOf = (id: string) => codes.find((row) => row.id === id)!.code;
    await h.store.withTenant(t.asAgent(t.dev), (tx) =>
      tx.events.appendBatch([
        { type: 'question_asked', payload: { question: 'first' } },
        {
          type: 'advice_given',
          payload: { message: 'second, with \u001b[31mred\u001b[0m text' },
          projectId: t.otherProjectId,
        },
        { type: 'task_blocked', payload: { taskId: randomUUID(), reason: 'x'.repeat(200) } },
      ]),
    );
    await h.store.withTenant(t.asAgent(t.dev), (tx) =>
      tx.workSessions.start({ agentId: t.dev, projectId: t.projectId }),
    );
    const lines: string[] = [];
    await tailEvents(h.store, { tenant: t.tenant.slug, limit: 3 }, (line) => lines.push(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  advice_given +${codeOf(t.dev)} +second, with  \\[31mred \\[0m text$`,
      ),
    );
    expect(lines[1]).toMatch(new RegExp(`task_blocked +${codeOf(t.dev)} +x{79}…$`));
    // A system event names the agent it is about.
    expect(lines[2]).toMatch(new RegExp(`session_start +system +${codeOf(t.dev)}: \\{.*"agentId":`));

    const project: string[] = [];
    await tailEvents(h.store, { tenant: t.tenant.slug, project: 'api', limit: 10 }, (line) =>
      project.push(line),
    );
    expect(project).toHaveLength(1);
    await expect(
      tailEvents(h.store, { tenant: t.tenant.slug, project: 'nope', limit: 10 }, () => {}),
    ).rejects.toBeInstanceOf(NotFoundError);

    const followed: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const tail = tailEvents(
      h.store,
      { tenant: t.tenant.slug, limit: 1, follow: { intervalMs: 20, stop: stopped } },
      (line) => followed.push(line),
    );
    while (followed.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    await h.store.withTenant(t.asAgent(t.lead), (tx) =>
      tx.events.append({ type: 'advice_given', payload: { message: 'late news' } }),
    );
    while (followed.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    await tail;
    expect(followed[1]).toMatch(new RegExp(`advice_given +${codeOf(t.lead)} +late news$`));
    expect(followed).toHaveLength(2);
  });
});
