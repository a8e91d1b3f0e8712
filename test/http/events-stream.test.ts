import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventRoutes } from '../../src/events/events.routes.ts';
import type { EventStreamOptions } from '../../src/events/events-stream.routes.ts';
import { eventStreamRoute } from '../../src/events/events-stream.routes.ts';
import { readEventStreamStatement } from '../../src/events/events-stream.ts';
import type { Store } from '../../src/index.ts';
import { projectRoutes } from '../../src/projects/projects.routes.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { type AgentWithKey, type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';
import { SseClient } from './sse-client.ts';

type Tenant = Awaited<ReturnType<typeof tenantWithAgent>>;

/** A listening API serving the stream (with `options`), the events routes and the projects routes (a write that notifies). */
async function listening(store: Store, options: EventStreamOptions) {
  const api = await startApi(store, {
    routes: [...projectRoutes, ...eventRoutes, eventStreamRoute(options)],
  });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.app.server.address() as AddressInfo;
  return { api, url: `http://127.0.0.1:${port}/v1/events/stream` };
}

/** Appends one advice_given event as the tenant's agent, through the library; returns its id. */
async function append(store: Store, t: Tenant, message: string): Promise<number> {
  const event = await store.withTenant(
    { tenantId: t.tenant.id, actor: { type: 'agent', id: t.agent.agentId } },
    (tx) => tx.events.append({ type: 'advice_given', payload: { message } }),
  );
  return event.id;
}

const bearer = (agent: AgentWithKey) => ({ authorization: `Bearer ${agent.key}` });
const ids = (client: SseClient) => client.data<{ id: number }>().map((event) => event.id);

describeEachEngine('live timeline (SSE)', (h) => {
  let a: Tenant;
  let b: Tenant;
  let fast: { api: ApiHarness; url: string };
  const clients: SseClient[] = [];
  const open = async (url: string, headers: Record<string, string>) => {
    const client = await SseClient.open(url, headers);
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    fast = await listening(h.store, { pollMs: 50 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await fast?.api.close();
  });

  it('streams each tenant only its own new events, typed, with cursor ids', async () => {
    const before = await append(h.store, a, 'before the stream');
    const [sa, sb] = await Promise.all([open(fast.url, bearer(a.agent)), open(fast.url, bearer(b.agent))]);
    expect(sa.response.status).toBe(200);
    expect(sa.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sa.response.headers.get('x-request-id')).toBeTruthy();
    const a1 = await append(h.store, a, 'a1');
    const b1 = await append(h.store, b, 'b1');
    const a2 = await append(h.store, a, 'a2');
    await Promise.all([sa.until(() => sa.events.length >= 2), sb.until(() => sb.events.length >= 1)]);
    // One more of each, so that anything else sent meanwhile would have arrived before it.
    const a3 = await append(h.store, a, 'a3');
    const b2 = await append(h.store, b, 'b2');
    await Promise.all([sa.until(() => sa.events.length >= 3), sb.until(() => sb.events.length >= 2)]);
    // A stream without Last-Event-ID starts at the watermark: an event committed just before it
    // connected, while an older transaction was open anywhere on the cluster (another suite's, on a
    // shared server), is not final yet and comes too. Nothing else of the tenant, and nothing twice.
    expect(ids(sa).filter((id) => id !== before)).toEqual([a1, a2, a3]);
    expect(ids(sb)).toEqual([b1, b2]);
    expect(sa.events.every((event) => event.event === 'advice_given')).toBe(true);
    for (const event of sa.events) expect(event.id).toMatch(/^\d+-\d+$/);
    expect(sa.data()[0]).toMatchObject({ id: a1, tenantId: a.tenant.id, payload: { message: 'a1' } });
    // The event as the events routes return it.
    const read = await call(fast.api.app, 'GET', `/v1/events/${a1}`, { key: a.agent.key });
    expect(sa.events[0]!.data).toBe(read.body);
  });

  it('resumes after Last-Event-ID with exactly the events after it, from the start id too', async () => {
    const first = await open(fast.url, bearer(a.agent));
    await first.until(() => first.lastEventId !== '', 4000, 'the start id');
    const start = first.lastEventId;
    const written = [
      await append(h.store, a, 'r1'),
      await append(h.store, a, 'r2'),
      await append(h.store, a, 'r3'),
    ];
    await first.until(() => first.events.length === 3);
    first.close();
    const afterFirst = first.events[0]!.id;
    written.push(await append(h.store, a, 'r4 while away'), await append(h.store, a, 'r5 while away'));

    const resumed = await open(fast.url, { ...bearer(a.agent), 'last-event-id': afterFirst });
    await resumed.until(() => resumed.events.length >= 4);
    const fromStart = await open(fast.url, { ...bearer(a.agent), 'last-event-id': start });
    await fromStart.until(() => fromStart.events.length >= 5);
    const marker = await append(h.store, a, 'marker');
    await resumed.until(() => ids(resumed).includes(marker));
    await fromStart.until(() => ids(fromStart).includes(marker));
    expect(ids(resumed)).toEqual([...written.slice(1), marker]);
    expect(ids(fromStart)).toEqual([...written, marker]);
  });

  it('refuses a bad Last-Event-ID with 422, a missing or wrong credential with 401, another tenant’s project with 404', async () => {
    for (const bad of ['abc', '12', '1-2-3', '-1-0', '99999999999999999999999-1']) {
      const response = await call(fast.api.app, 'GET', '/v1/events/stream', {
        key: a.agent.key,
        headers: { 'last-event-id': bad },
      });
      expect(response.statusCode, bad).toBe(422);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(json(response)).toMatchObject({
        type: 'validation_failed',
        errors: [{ path: 'Last-Event-ID' }],
      });
    }
    const anonymous = await call(fast.api.app, 'GET', '/v1/events/stream');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(anonymous)).toMatchObject({ type: 'missing_credentials' });
    const wrong = await call(fast.api.app, 'GET', '/v1/events/stream', {
      key: `${a.agent.key.slice(0, -4)}xxxx`,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    const project = json(
      await call(fast.api.app, 'POST', '/v1/projects', { key: b.agent.key, body: { slug: 'bp', name: 'B' } }),
    );
    const foreign = await call(fast.api.app, 'GET', `/v1/events/stream?projectId=${project.id}`, {
      key: a.agent.key,
    });
    expect(foreign.statusCode).toBe(404);
  });

  it('wakes at once on a write through the API, not at the next poll', async () => {
    const slow = await listening(h.store, { pollMs: 60_000 });
    try {
      const stream = await open(slow.url, bearer(a.agent));
      await stream.until(() => stream.lastEventId !== '', 4000, 'the start id');
      const id = await append(h.store, a, 'written outside the API');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stream.events).toEqual([]);
      const started = Date.now();
      const created = await call(slow.api.app, 'POST', '/v1/projects', {
        key: a.agent.key,
        body: { slug: 'wake', name: 'Wake' },
      });
      expect(created.statusCode).toBe(201);
      await stream.until(() => stream.events.length === 1, 2000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(ids(stream)).toEqual([id]);
    } finally {
      await slow.api.close();
    }
  });

  it('ends open streams promptly when the server closes', async () => {
    const own = await listening(h.store, { pollMs: 60_000, heartbeatMs: 60_000 });
    const streams = await Promise.all([open(own.url, bearer(a.agent)), open(own.url, bearer(b.agent))]);
    await Promise.all(streams.map((s) => s.until(() => s.lastEventId !== '', 4000, 'the start id')));
    const started = Date.now();
    await own.api.close();
    await Promise.all(streams.map((s) => s.ended));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('bounds the streams of one credential (429), and frees a slot when a client leaves', async () => {
    const own = await listening(h.store, { maxStreamsPerCredential: 1 });
    try {
      const one = await open(own.url, bearer(a.agent));
      expect(one.response.status).toBe(200);
      const two = await SseClient.open(own.url, bearer(a.agent));
      expect(two.response.status).toBe(429);
      expect(two.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(two.response.headers.get('retry-after')).toBeTruthy();
      expect(await two.response.json()).toMatchObject({ type: 'rate_limited', status: 429 });
      // Another credential has its own budget.
      expect((await open(own.url, bearer(b.agent))).response.status).toBe(200);
      one.close();
      let three: SseClient | undefined;
      for (let i = 0; i < 40 && three?.response.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        three = await open(own.url, bearer(a.agent));
      }
      expect(three?.response.status).toBe(200);
    } finally {
      await own.api.close();
    }
  });

  it('ends the stream of an agent terminated, or whose key is revoked, meanwhile', async () => {
    const own = await listening(h.store, { pollMs: 50, heartbeatMs: 100 });
    try {
      const t = await tenantWithAgent(h.store);
      const revoked = await open(own.url, bearer(t.agent));
      await revoked.until(() => revoked.lastEventId !== '', 4000, 'the start id');
      await h.store.withTenant(t.context, (tx) => tx.agentCredentials.revoke({ agentId: t.agent.agentId }));
      await revoked.ended;

      const u = await tenantWithAgent(h.store);
      const terminated = await open(own.url, bearer(u.agent));
      await terminated.until(() => terminated.lastEventId !== '', 4000, 'the start id');
      await h.store.withTenant(u.context, (tx) => tx.agents.changeStatus(u.agent.agentId, 'terminated'));
      await terminated.ended;
      expect(terminated.events).toEqual([]);
    } finally {
      await own.api.close();
    }
  });

  it('stamps every event with its own transaction id, whatever an INSERT says', async () => {
    const [row] = await h.store.withTenant(
      { tenantId: a.tenant.id, actor: { type: 'agent', id: a.agent.agentId } },
      (tx) =>
        tx.query<{ given: string; own: string }>(
          `INSERT INTO events (type, payload, tx_id) VALUES ('advice_given', '{"message": "m"}', '5')
           RETURNING tx_id::text AS given, pg_current_xact_id()::text AS own`,
        ),
    );
    expect(row!.given).toBe(row!.own);
    expect(row!.given).not.toBe('5');
  });

  it('reads through events_tx_idx as the app role, the range and watermark as its index condition', async () => {
    const plan = await h.store.withTenant(
      a.context,
      async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        await tx.query('SET LOCAL enable_bitmapscan = off');
        const query = readEventStreamStatement.toSQL(tx.db);
        const values: Record<string, unknown> = {
          tenantId: a.tenant.id,
          txId: '3',
          id: 0,
          projectId: null,
          limit: 10,
        };
        const params = query.params.map((p) => values[(p as { name: string }).name]);
        const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${query.sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      },
      { readOnly: true },
    );
    expect(plan).toMatch(/Index Scan using events_tx_idx on events/);
    expect(plan).toMatch(
      /Index Cond: .*ROW\(tx_id, id\) > ROW\(.*tx_id < pg_snapshot_xmin\(pg_current_snapshot\(\)\)/,
    );
  });
  // PGlite has one connection: transactions cannot overlap there.
  it.runIf(h.kind === 'postgres')(
    'sends no event behind one already sent: a late commit of an earlier transaction is neither skipped nor repeated',
    async () => {
      const t = await tenantWithAgent(h.store);
      const context = { tenantId: t.tenant.id, actor: { type: 'agent' as const, id: t.agent.agentId } };
      const gate = () => {
        let pass!: () => void;
        const opened = new Promise<void>((resolve) => {
          pass = resolve;
        });
        return { pass, opened };
      };
      const t1Began = gate();
      const t2Committed = gate();
      const e1Appended = gate();
      const t1Released = gate();
      const stream = await open(fast.url, bearer(t.agent));
      await stream.until(() => stream.lastEventId !== '', 4000, 'the start id');
      const start = stream.lastEventId;
      // T1 begins first (the earliest time), appends after T2 committed (a higher id than e2), and
      // commits after T3 (whose transaction id is higher): ordered by time, by id or by commit,
      // some event would come behind one already sent.
      let e1 = 0;
      const t1 = h.store.withTenant(context, async (tx) => {
        await tx.query('SELECT 1');
        t1Began.pass();
        await t2Committed.opened;
        e1 = (await tx.events.append({ type: 'advice_given', payload: { message: 'e1' } })).id;
        e1Appended.pass();
        await t1Released.opened;
      });
      await t1Began.opened;
      const e2 = await append(h.store, t, 'e2');
      t2Committed.pass();
      await e1Appended.opened;
      const e3 = await append(h.store, t, 'e3');
      await stream.until(() => stream.events.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // e2's transaction ended before T1 took its id; e3's comes after T1's, which is still open.
      expect(ids(stream)).toEqual([e2]);
      t1Released.pass();
      await t1;
      await stream.until(() => stream.events.length >= 3);
      expect(ids(stream)).toEqual([e2, e1, e3]);
      const [first, second] = stream.data<{ occurredAt: string }>();
      expect(Date.parse(second!.occurredAt)).toBeLessThan(Date.parse(first!.occurredAt));

      const fromStart = await open(fast.url, { ...bearer(t.agent), 'last-event-id': start });
      const afterE1 = await open(fast.url, { ...bearer(t.agent), 'last-event-id': stream.events[1]!.id });
      const marker = await append(h.store, t, 'marker');
      await fromStart.until(() => ids(fromStart).includes(marker));
      await afterE1.until(() => ids(afterE1).includes(marker));
      expect(ids(fromStart)).toEqual([e2, e1, e3, marker]);
      expect(ids(afterE1)).toEqual([e3, marker]);
    },
  );
});
