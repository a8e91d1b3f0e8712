import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';
import { call, json, startApi, tenantWithAgent } from '../http/api-fixtures.ts';

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex');

describeEachEngine('idempotency keys', (h) => {
  let a: TenantFixture;
  let b: TenantFixture;
  beforeAll(async () => {
    a = await createTenant(h.store);
    b = await createTenant(h.store);
  });

  it('claims a key once; a committed key replays its response; another request under it is a conflict', async () => {
    const claim = { key: 'order-1', fingerprint: fingerprint('one') };
    const first = await h.store.withTenant(a.context, async (tx) => {
      const stored = await tx.idempotencyKeys.claim(claim);
      await tx.idempotencyKeys.complete({ key: 'order-1', status: 201, body: '{"id":1}' });
      return stored;
    });
    expect(first).toBeUndefined();
    const replay = await h.store.withTenant(a.context, (tx) => tx.idempotencyKeys.claim(claim));
    expect(replay).toEqual({ status: 201, body: '{"id":1}' });
    const reused = await caught(
      h.store.withTenant(a.context, (tx) =>
        tx.idempotencyKeys.claim({ key: 'order-1', fingerprint: fingerprint('two') }),
      ),
    );
    expect(reused).toBeInstanceOf(ConflictError);
    expect(reused).toMatchObject({ code: 'idempotency_key_reused', field: 'key' });
    // Keys are per tenant: the same key is free in another tenant.
    const other = await h.store.withTenant(b.context, (tx) => tx.idempotencyKeys.claim(claim));
    expect(other).toBeUndefined();
  });

  it('keeps no key when the unit of work rolls back', async () => {
    const claim = { key: 'rolled-back', fingerprint: fingerprint('x') };
    await caught(
      h.store.withTenant(a.context, async (tx) => {
        await tx.idempotencyKeys.claim(claim);
        throw new Error('the request failed');
      }),
    );
    expect(await ownerCount(h, "idempotency_keys WHERE key = 'rolled-back'")).toBe(0);
  });

  it('claims an expired key afresh, and prune removes only expired keys', async () => {
    await h.store.withTenant(a.context, async (tx) => {
      await tx.idempotencyKeys.claim({ key: 'old', fingerprint: fingerprint('old') });
      await tx.idempotencyKeys.complete({ key: 'old', status: 200, body: null });
      await tx.idempotencyKeys.claim({ key: 'fresh', fingerprint: fingerprint('fresh') });
      await tx.idempotencyKeys.complete({ key: 'fresh', status: 200, body: null });
    });
    await h.asOwner((c) =>
      c.query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1 AND key = 'old'",
        [a.tenant.id],
      ),
    );
    const reclaimed = await h.store.withTenant(a.context, async (tx) => {
      const stored = await tx.idempotencyKeys.claim({ key: 'old', fingerprint: fingerprint('new body') });
      await tx.idempotencyKeys.complete({ key: 'old', status: 201, body: '{}' });
      return stored;
    });
    expect(reclaimed).toBeUndefined();
    await h.asOwner((c) =>
      c.query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1 AND key = 'old'",
        [a.tenant.id],
      ),
    );
    const pruned = await h.store.asService({ actor: 'test' }, (svc) => svc.idempotencyKeys.prune());
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await ownerCount(h, "idempotency_keys WHERE key = 'old'")).toBe(0);
    expect(await ownerCount(h, "idempotency_keys WHERE key = 'fresh'")).toBe(1);
  });

  it('refuses a malformed key or fingerprint, writing nothing', async () => {
    for (const claim of [
      { key: '', fingerprint: fingerprint('a') },
      { key: 'has space', fingerprint: fingerprint('a') },
      { key: 'k'.repeat(256), fingerprint: fingerprint('a') },
      { key: 'ok', fingerprint: 'not-hex' },
    ]) {
      const error = await caught(h.store.withTenant(a.context, (tx) => tx.idempotencyKeys.claim(claim)));
      expect(error).toBeInstanceOf(ValidationError);
    }
    expect(
      await ownerCount(h, 'idempotency_keys WHERE tenant_id = $1 AND key = $2', [a.tenant.id, 'ok']),
    ).toBe(0);
  });

  it('answers a malformed Idempotency-Key header with 422 naming it', async () => {
    const api = await startApi(h.store);
    try {
      const t = await tenantWithAgent(h.store);
      const response = await call(api.app, 'POST', '/v1/projects', {
        key: t.agent.key,
        body: { slug: 'p', name: 'P' },
        headers: { 'idempotency-key': 'two words' },
      });
      expect(response.statusCode).toBe(422);
      expect(json(response)).toMatchObject({ type: 'validation_failed' });
      expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [t.tenant.id])).toBe(0);
    } finally {
      await api.close();
    }
  });
});

describeEachEngine(
  'idempotency keys under concurrency',
  (h) => {
    it('runs two concurrent POSTs with one key once: both get the first response', async () => {
      const api = await startApi(h.store);
      try {
        const t = await tenantWithAgent(h.store);
        const send = () =>
          call(api.app, 'POST', '/v1/projects', {
            key: t.agent.key,
            body: { slug: 'twin', name: 'Twin' },
            headers: { 'idempotency-key': 'twin-1' },
          });
        const responses = await Promise.all([send(), send(), send(), send()]);
        expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201]);
        expect(new Set(responses.map((r) => r.body)).size).toBe(1);
        expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [t.tenant.id])).toBe(1);
      } finally {
        await api.close();
      }
    });
  },
  'server',
);
