import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, agentWithKey, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

interface Event {
  id: number;
  type: string;
  authorId: string | null;
  payload: Record<string, unknown>;
  mentions: string[];
}

describeEachEngine('HTTP API: events', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let peer: Awaited<ReturnType<typeof agentWithKey>>;
  const eventsOf = (tenantId: string) => ownerCount(h, 'events WHERE tenant_id = $1', [tenantId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    peer = await agentWithKey(h.store, a.tenant.id);
  });
  afterAll(() => api?.close());

  it('appends an event as the key’s agent, its author, and reads it back by its integer id', async () => {
    const appended = await call(api.app, 'POST', '/v1/events', {
      key: a.agent.key,
      body: { type: 'question_asked', payload: { question: 'Which DB?' }, mentions: [peer.agentId] },
    });
    expect(appended.statusCode).toBe(201);
    const event = json<Event>(appended);
    expect(event).toMatchObject({
      type: 'question_asked',
      authorId: a.agent.agentId,
      mentions: [peer.agentId],
    });
    expect(Number.isInteger(event.id)).toBe(true);
    const [row] = await h.asOwner((c) =>
      c.query<{ author_id: string; payload: unknown }>(
        'SELECT author_id, payload FROM events WHERE id = $1',
        [event.id],
      ),
    );
    expect(row).toEqual({ author_id: a.agent.agentId, payload: { question: 'Which DB?' } });
    const read = await call(api.app, 'GET', `/v1/events/${event.id}`, { key: peer.key });
    expect(json(read)).toEqual(event);
    expect((await call(api.app, 'GET', `/v1/events/${event.id}`, { key: b.agent.key })).statusCode).toBe(404);
    for (const id of ['0', '1.5', '9999999999999999'])
      expect(json(await call(api.app, 'GET', `/v1/events/${id}`, { key: a.agent.key })), id).toMatchObject({
        status: 422,
        errors: [{ path: 'eventId' }],
      });
  });

  it('refuses an event by another agent, a system type and bad payloads, writing nothing', async () => {
    const before = await eventsOf(a.tenant.id);
    const forged = await call(api.app, 'POST', '/v1/events', {
      key: a.agent.key,
      body: { type: 'advice_given', payload: { message: 'x' }, authorId: peer.agentId },
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(forged)).toMatchObject({ type: 'permission_denied', entity: 'event' });
    const system = await call(api.app, 'POST', '/v1/events', {
      key: a.agent.key,
      body: { type: 'trust_score_changed', payload: { agentId: a.agent.agentId, previous: 1, new: 99 } },
    });
    expect(json(system)).toMatchObject({ status: 403, type: 'permission_denied' });
    const unknown = await call(api.app, 'POST', '/v1/events', {
      key: a.agent.key,
      body: { type: 'coffee_break', payload: {} },
    });
    expect(json(unknown)).toMatchObject({ status: 422, errors: [{ path: 'type' }] });
    const badField = await call(api.app, 'POST', '/v1/events', {
      key: a.agent.key,
      body: { type: 'problem_report', payload: { title: 'Down', severity: 'apocalyptic' } },
    });
    expect(json(badField)).toMatchObject({ status: 422, errors: [{ path: 'payload.severity' }] });
    const ok = { type: 'advice_given', payload: { message: 'fine' } };
    const batch = await call(api.app, 'POST', '/v1/events/batch', {
      key: a.agent.key,
      body: [ok, ok, ok, { type: 'advice_given', payload: { message: '' } }],
    });
    expect(json(batch)).toMatchObject({ status: 422, errors: [{ path: '3.payload.message' }] });
    expect(await eventsOf(a.tenant.id)).toBe(before);
  });

  it('appends a batch in order and pages the timeline by type, time and cursor', async () => {
    const since = new Date().toISOString();
    const sent = ['one', 'two', 'three'].map((message) => ({ type: 'advice_given', payload: { message } }));
    const appended = await call(api.app, 'POST', '/v1/events/batch', {
      key: peer.key,
      body: [...sent, { type: 'question_asked', payload: { question: 'four?' } }],
    });
    expect(appended.statusCode).toBe(201);
    const { items } = json<{ items: Event[] }>(appended);
    expect(items.map((e) => [e.type, e.authorId])).toEqual([
      ['advice_given', peer.agentId],
      ['advice_given', peer.agentId],
      ['advice_given', peer.agentId],
      ['question_asked', peer.agentId],
    ]);
    expect(items.map((e) => e.id)).toEqual([...items.map((e) => e.id)].sort((x, y) => x - y));

    const query = `authorId=${peer.agentId}&from=${encodeURIComponent(since)}`;
    const page = (extra: string) =>
      call(api.app, 'GET', `/v1/events?${query}&${extra}`, { key: a.agent.key }).then((r) =>
        json<{ items: Event[]; nextCursor: string | null }>(r),
      );
    const repeated = await page('type=advice_given&type=question_asked');
    const commas = await page('type=advice_given,question_asked');
    expect(commas).toEqual(repeated);
    expect(repeated.items.map((e) => e.id)).toEqual(items.map((e) => e.id).reverse());
    const first = await page('type=advice_given&limit=2');
    expect(first.items.map((e) => e.payload.message)).toEqual(['three', 'two']);
    const second = await page(`type=advice_given&limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ items: [{ payload: { message: 'one' } }], nextCursor: null });
    const future = new Date(Date.now() + 60_000).toISOString();
    const later = await call(api.app, 'GET', `/v1/events?from=${encodeURIComponent(future)}`, {
      key: a.agent.key,
    });
    expect(json(later)).toEqual({ items: [], nextCursor: null });
    const bad = await call(api.app, 'GET', '/v1/events?type=coffee_break&to=yesterday', { key: a.agent.key });
    expect(
      json<{ errors: { path: string }[] }>(bad)
        .errors.map((e) => e.path)
        .sort(),
    ).toEqual(['to', 'type']);
  });

  it('appends once for an Idempotency-Key sent twice, and answers the same', async () => {
    const before = await eventsOf(a.tenant.id);
    const send = () =>
      call(api.app, 'POST', '/v1/events', {
        key: a.agent.key,
        body: { type: 'problem_report', payload: { title: 'Flaky CI', severity: 'low' } },
        headers: { 'idempotency-key': 'event-1' },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await eventsOf(a.tenant.id)).toBe(before + 1);
  });
});
