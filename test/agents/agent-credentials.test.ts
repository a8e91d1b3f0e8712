import { createHash, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCoordination } from '../../src/coordination/index.ts';
import {
  AuthenticationError,
  ForbiddenError,
  NO_TENANT_ID,
  NotFoundError,
  type Store,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createAgent, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

const KEY = /^afk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** An organization agent of the tenant, written as the owner (the agents repository is another helper's). */
interface UseRow {
  tenant_id: string;
  credential_id: string | null;
  agent_id: string | null;
  key_prefix: string | null;
  outcome: string;
  request_id: string | null;
  client_address: string | null;
  user_agent: string | null;
}

async function usesOf(h: EngineHarness, where: string, params: unknown[]): Promise<UseRow[]> {
  return h.asOwner((c) =>
    c.query<UseRow>(
      `SELECT tenant_id, credential_id, agent_id, key_prefix, outcome, request_id, client_address, user_agent
         FROM agent_credential_uses WHERE ${where} ORDER BY id`,
      params,
    ),
  );
}

const prefixOf = (key: string) => KEY.exec(key)![1]!;

describeEachEngine('agent credentials (API keys)', (h) => {
  let f: TenantFixture;
  let other: TenantFixture;
  let agentId: string;
  let peerId: string;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const issue = async (agent = agentId, expiresAt?: Date) =>
    (await inTenant((tx) => tx.agentCredentials.issue({ agentId: agent, expiresAt }))).key.reveal();
  const refusal = async (key: string, options?: Parameters<Store['authenticate']>[1]) => {
    const error = await caught(h.store.authenticate(key, options));
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  };

  beforeAll(async () => {
    f = await createTenant(h.store);
    other = await createTenant(h.store);
    agentId = await createAgent(h.store, f.tenant.id, { code: 'dev' });
    peerId = await createAgent(h.store, f.tenant.id, { code: 'peer' });
  });

  describe('issue', () => {
    it('returns the full key once and stores only the SHA-256 of its secret', async () => {
      const issued = await inTenant((tx) => tx.agentCredentials.issue({ agentId }));
      const key = issued.key.reveal();
      const [, prefix, secret] = KEY.exec(key)!;
      expect(issued.credential).toMatchObject({
        agentId,
        keyPrefix: prefix,
        revokedAt: null,
        lastUsedAt: null,
      });
      expect(issued.credential).not.toHaveProperty('secretHash');
      // The key prints as redacted wherever the result is logged.
      expect(inspect(issued)).not.toContain(secret!);
      expect(JSON.stringify(issued)).not.toContain(secret!);
      const [row] = await h.asOwner((c) =>
        c.query<{ secret_hash: string }>('SELECT secret_hash FROM agent_credentials WHERE key_prefix = $1', [
          prefix,
        ]),
      );
      expect(row?.secret_hash).toBe(createHash('sha256').update(secret!).digest('hex'));
      // The audit trail records the hash as redacted, never its value.
      const [audit] = await h.asOwner((c) =>
        c.query<{ new_values: Record<string, unknown> }>(
          `SELECT new_values FROM audit_logs WHERE table_name = 'agent_credentials' AND row_id = $1`,
          [issued.credential.id],
        ),
      );
      expect(audit?.new_values.secret_hash).toEqual({ $redacted: true });
      expect(JSON.stringify(audit)).not.toContain(row!.secret_hash);
    });

    it('refuses bad input and an unknown, terminated or foreign agent, writing nothing', async () => {
      const before = await ownerCount(h, 'agent_credentials');
      const bad = await caught(inTenant((tx) => tx.agentCredentials.issue({ agentId: 'nope' })));
      expect(bad).toMatchObject({ issues: [{ path: 'agentId' }] });
      expect(bad).toBeInstanceOf(ValidationError);
      const past = await caught(
        inTenant((tx) => tx.agentCredentials.issue({ agentId, expiresAt: new Date(Date.now() - 1000) })),
      );
      expect(past).toMatchObject({ issues: [{ path: 'expiresAt' }] });
      const foreign = await createAgent(h.store, other.tenant.id, { code: 'foreign' });
      for (const id of [randomUUID(), foreign]) {
        expect(await caught(inTenant((tx) => tx.agentCredentials.issue({ agentId: id })))).toBeInstanceOf(
          NotFoundError,
        );
      }
      const gone = await createAgent(h.store, f.tenant.id, { code: 'gone' });
      await h.asOwner((c) =>
        c.query(`UPDATE agents SET status = 'terminated', terminated_at = now() WHERE id = $1`, [gone]),
      );
      expect(await caught(inTenant((tx) => tx.agentCredentials.issue({ agentId: gone })))).toMatchObject({
        code: 'not_found',
        entity: 'agent',
      });
      expect(await ownerCount(h, 'agent_credentials')).toBe(before);
    });
  });

  describe('authenticate', () => {
    it('tells whose a key is, records the use with its request and sets last_used_at', async () => {
      const key = await issue();
      const request = { requestId: 'req-1', clientAddress: '203.0.113.7', userAgent: 'agent-sdk/1.0' };
      const identity = await h.store.authenticate(key, { request });
      const [credential] = await h.asOwner((c) =>
        c.query<{ id: string; used: boolean }>(
          'SELECT id, last_used_at IS NOT NULL AS used FROM agent_credentials WHERE key_prefix = $1',
          [prefixOf(key)],
        ),
      );
      expect(identity).toEqual({ tenantId: f.tenant.id, agentId, credentialId: credential!.id });
      expect(credential!.used).toBe(true);
      expect(await usesOf(h, 'key_prefix = $1', [prefixOf(key)])).toEqual([
        {
          tenant_id: f.tenant.id,
          credential_id: credential!.id,
          agent_id: agentId,
          key_prefix: prefixOf(key),
          outcome: 'success',
          request_id: 'req-1',
          client_address: '203.0.113.7',
          user_agent: 'agent-sdk/1.0',
        },
      ]);
      // One use a minute moves last_used_at: the usage rows are the exact record.
      await h.store.authenticate(key);
      expect(await usesOf(h, 'key_prefix = $1', [prefixOf(key)])).toHaveLength(2);
      const audits = await ownerCount(
        h,
        `audit_logs WHERE table_name = 'agent_credentials' AND row_id = $1`,
        [credential!.id],
      );
      expect(audits).toBe(2); // the insert and one last_used_at update, under the agent
      const [audit] = await h.asOwner((c) =>
        c.query<{ actor_type: string; actor_id: string }>(
          `SELECT actor_type, actor_id FROM audit_logs WHERE table_name = 'agent_credentials' AND row_id = $1 AND action = 'update'`,
          [credential!.id],
        ),
      );
      expect(audit).toEqual({ actor_type: 'agent', actor_id: agentId });
    });

    it('refuses a wrong secret, an unknown prefix and a malformed key alike, recording each', async () => {
      const key = await issue();
      const prefix = prefixOf(key);
      const wrong = `afk_${prefix}_${'A'.repeat(43)}`;
      const unknown = `afk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
      for (const attempt of [wrong, unknown, 'not-a-key', `${key}x`, '']) {
        const error = await refusal(attempt, { request: { requestId: 'probe' } });
        expect(error.code).toBe('invalid_key');
        expect(error.message).toBe('invalid API key');
      }
      const rows = await usesOf(h, `request_id = 'probe'`, []);
      expect(rows.map((r) => [r.tenant_id, r.credential_id, r.key_prefix, r.outcome])).toEqual([
        [f.tenant.id, expect.any(String), prefix, 'wrong_secret'],
        [NO_TENANT_ID, null, '0'.repeat(16), 'unknown_key'],
        [NO_TENANT_ID, null, null, 'unknown_key'],
        [NO_TENANT_ID, null, null, 'unknown_key'],
        [NO_TENANT_ID, null, null, 'unknown_key'],
      ]);
      // The tenant sees the failed attempt on its own key, and nothing of the unknown ones.
      const seen = await inTenant((tx) =>
        tx.query<{ outcome: string }>(`SELECT outcome FROM agent_credential_uses WHERE request_id = 'probe'`),
      );
      expect(seen).toEqual([{ outcome: 'wrong_secret' }]);
    });

    it('refuses a revoked key at once, an expired key, and keys of a terminated agent or suspended tenant', async () => {
      const revoked = await issue();
      await h.store.authenticate(revoked);
      const [row] = await inTenant((tx) =>
        tx.agentCredentials.revoke({ agentId, keyPrefix: prefixOf(revoked) }),
      );
      expect(row?.revokedAt).toBeInstanceOf(Date);
      expect((await refusal(revoked)).code).toBe('key_revoked');

      const expiring = await issue(agentId, new Date(Date.now() + 60_000));
      await h.store.authenticate(expiring);
      await h.asOwner((c) =>
        c.query(
          `UPDATE agent_credentials SET expires_at = now() - interval '1 second' WHERE key_prefix = $1`,
          [prefixOf(expiring)],
        ),
      );
      expect((await refusal(expiring)).code).toBe('key_expired');

      const worker = await createAgent(h.store, f.tenant.id, { code: 'worker' });
      const ofWorker = await issue(worker);
      await h.asOwner((c) => c.query('UPDATE agents SET deleted_at = now() WHERE id = $1', [worker]));
      expect((await refusal(ofWorker)).code).toBe('agent_unavailable');
      const retired = await createAgent(h.store, f.tenant.id, { code: 'retired' });
      const ofRetired = await issue(retired);
      await h.asOwner((c) => c.query(`UPDATE agents SET status = 'terminated' WHERE id = $1`, [retired]));
      expect((await refusal(ofRetired)).code).toBe('agent_unavailable');

      const tenant = await createTenant(h.store);
      const lone = await createAgent(h.store, tenant.tenant.id, { code: 'lone' });
      const { key } = await h.store.withTenant(tenant.context, (tx) =>
        tx.agentCredentials.issue({ agentId: lone }),
      );
      await h.store.authenticate(key.reveal());
      await h.store.asService({ actor: 'test' }, (svc) =>
        svc.tenants.setStatus(tenant.tenant.id, 'suspended'),
      );
      expect((await refusal(key.reveal())).code).toBe('tenant_unavailable');
      expect((await usesOf(h, 'tenant_id = $1', [tenant.tenant.id])).map((r) => r.outcome)).toEqual([
        'success',
        'tenant_unavailable',
      ]);
    });
  });

  describe('rotate and revoke', () => {
    it('keeps the old key working through the grace period, then expires it', async () => {
      const agent = await createAgent(h.store, f.tenant.id, { code: 'rotator' });
      const old = await issue(agent);
      const rotated = await inTenant((tx) => tx.agentCredentials.rotate({ agentId: agent }));
      const fresh = rotated.key.reveal();
      expect(rotated.replaced.map((c) => c.keyPrefix)).toEqual([prefixOf(old)]);
      const graceEnd = rotated.replaced[0]!.expiresAt!.getTime();
      expect(graceEnd - rotated.replaced[0]!.rotatedAt!.getTime()).toBe(24 * 3600 * 1000);
      expect((await h.store.authenticate(old)).agentId).toBe(agent);
      expect((await h.store.authenticate(fresh)).agentId).toBe(agent);

      // A rotation without grace ends the replaced keys (both live ones) now.
      const again = await inTenant((tx) => tx.agentCredentials.rotate({ agentId: agent, graceSeconds: 0 }));
      expect(again.replaced.map((c) => c.keyPrefix).sort()).toEqual([prefixOf(old), prefixOf(fresh)].sort());
      expect((await refusal(old)).code).toBe('key_expired');
      expect((await refusal(fresh)).code).toBe('key_expired');
      expect((await h.store.authenticate(again.key.reveal())).agentId).toBe(agent);
    });

    it('refuses a grace period out of bounds and an unknown key prefix, changing nothing', async () => {
      const before = await ownerCount(h, 'agent_credentials');
      for (const graceSeconds of [-1, 7 * 86400 + 1, 1.5]) {
        const error = await caught(inTenant((tx) => tx.agentCredentials.rotate({ agentId, graceSeconds })));
        expect(error).toMatchObject({ issues: [{ path: 'graceSeconds' }] });
      }
      const unknown = await caught(
        inTenant((tx) => tx.agentCredentials.rotate({ agentId, keyPrefix: 'ffffffffffffffff' })),
      );
      expect(unknown).toBeInstanceOf(NotFoundError);
      expect(
        await caught(inTenant((tx) => tx.agentCredentials.revoke({ agentId, keyPrefix: 'XYZ' }))),
      ).toMatchObject({ issues: [{ path: 'keyPrefix' }] });
      expect(await ownerCount(h, 'agent_credentials')).toBe(before);
    });

    it('revokes every live key of an agent', async () => {
      const agent = await createAgent(h.store, f.tenant.id, { code: 'revokee' });
      const keys = [await issue(agent), await issue(agent)];
      const revoked = await inTenant((tx) => tx.agentCredentials.revoke({ agentId: agent }));
      expect(revoked).toHaveLength(2);
      for (const key of keys) expect((await refusal(key)).code).toBe('key_revoked');
      expect(await caught(inTenant((tx) => tx.agentCredentials.revoke({ agentId: agent })))).toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  describe('rate limiting', () => {
    const coordination = createMemoryCoordination();
    afterAll(() => coordination.close());

    it('refuses further attempts after repeated failures, without checking or recording them', async () => {
      const rateLimiter = coordination.rateLimiter({ name: `keys-${h.kind}`, limit: 3, windowMs: 60_000 });
      const key = await issue();
      const wrong = `afk_${prefixOf(key)}_${'B'.repeat(43)}`;
      const request = { clientAddress: '198.51.100.9', requestId: 'limited' };
      for (let i = 0; i < 3; i++)
        expect((await refusal(wrong, { request, rateLimiter })).code).toBe('invalid_key');
      const limited = await refusal(wrong, { request, rateLimiter });
      expect(limited).toMatchObject({ code: 'rate_limited', retryable: true });
      expect(limited.retryAfterMs).toBeGreaterThan(0);
      // Limited per client address: the right key from there waits too…
      expect((await refusal(key, { request, rateLimiter })).code).toBe('rate_limited');
      // …and per key prefix: from another address as well.
      const elsewhere = { clientAddress: '198.51.100.10', requestId: 'limited' };
      expect((await refusal(key, { request: elsewhere, rateLimiter })).code).toBe('rate_limited');
      expect(await usesOf(h, `request_id = 'limited'`, [])).toHaveLength(3);
      // Another key from another address is not held up.
      const unrelated = await issue();
      const fine = { clientAddress: '192.0.2.1' };
      expect((await h.store.authenticate(unrelated, { request: fine, rateLimiter })).agentId).toBe(agentId);
    });
  });

  describe('who may see what', () => {
    it('gives the app role without a tenant no credential, and no one the hash', async () => {
      await issue();
      await h.asAppWithoutTenant(async (c) => {
        const [row] = await c.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM agent_credentials, agent_credential_uses',
        );
        expect(row?.n).toBe(0);
      });
      const denied = await caught(inTenant((tx) => tx.query('SELECT secret_hash FROM agent_credentials')));
      expect(denied).toBeInstanceOf(ForbiddenError);
      const returning = await caught(
        inTenant((tx) =>
          tx.query(`UPDATE agent_credentials SET revoked_at = NULL WHERE false RETURNING secret_hash`),
        ),
      );
      expect(returning).toBeInstanceOf(ForbiddenError);
    });

    it('tells a raw SQL caller of the verification function nothing about a key it cannot show', async () => {
      const key = await issue();
      const [, prefix, secret] = KEY.exec(key)!;
      const hash = createHash('sha256').update(secret!).digest('hex');
      const call = (p: string, digest: string) =>
        h.asAppWithoutTenant((c) =>
          c.query<Record<string, unknown>>(
            `SELECT * FROM agentflow.authenticate_agent_key($1, $2, '{"requestId": "raw"}')`,
            [p, digest],
          ),
        );
      const refused = { tenant_id: null, agent_id: null, credential_id: null, outcome: 'invalid_key' };
      // A known prefix with a wrong hash and an unknown prefix: the same answer, no hash column.
      expect(await call(prefix!, '0'.repeat(64))).toEqual([refused]);
      expect(await call('0123456789abcdef', '0'.repeat(64))).toEqual([refused]);
      expect(await call(prefix!, hash)).toEqual([
        { tenant_id: f.tenant.id, agent_id: agentId, credential_id: expect.any(String), outcome: 'success' },
      ]);
      expect((await usesOf(h, `request_id = 'raw'`, [])).map((r) => r.outcome)).toEqual([
        'wrong_secret',
        'unknown_key',
        'success',
      ]);
    });

    it('lets only the app role call the verification function', async () => {
      const service = await caught(
        h.store.asService({ actor: 'test' }, (svc) =>
          svc.query(`SELECT * FROM agentflow.authenticate_agent_key('0000000000000000', NULL, '{}')`),
        ),
      );
      expect(service).toMatchObject({ cause: { kind: 'insufficient_privilege' } });
    });

    it('keeps the usage log append-only for the application roles', async () => {
      await h.store.authenticate(await issue());
      for (const statement of [
        'UPDATE agent_credential_uses SET outcome = outcome',
        'DELETE FROM agent_credential_uses',
      ]) {
        expect(await caught(inTenant((tx) => tx.query(statement)))).toBeInstanceOf(ForbiddenError);
        expect(
          await caught(h.store.asService({ actor: 'test' }, (svc) => svc.query(statement))),
        ).toBeInstanceOf(ForbiddenError);
      }
    });

    it('shows an agent acting for itself only its own keys and uses; users see all', async () => {
      const own = await issue(peerId);
      await h.store.authenticate(own);
      const peer = { tenantId: f.tenant.id, actor: { type: 'agent' as const, id: peerId } };
      const seen = await h.store.withTenant(peer, async (tx) => ({
        keys: (await tx.agentCredentials.list({ limit: 1000 })).items,
        uses: await tx.query<{ agent_id: string }>('SELECT DISTINCT agent_id FROM agent_credential_uses'),
        raw: await tx.query<{ agent_id: string }>('SELECT DISTINCT agent_id FROM agent_credentials'),
      }));
      expect(new Set(seen.keys.map((k) => k.agentId))).toEqual(new Set([peerId]));
      expect(seen.uses).toEqual([{ agent_id: peerId }]);
      expect(seen.raw).toEqual([{ agent_id: peerId }]);
      // It cannot revoke, rotate or issue another agent's keys.
      expect(
        await caught(h.store.withTenant(peer, (tx) => tx.agentCredentials.revoke({ agentId }))),
      ).toBeInstanceOf(NotFoundError);
      expect(
        await caught(h.store.withTenant(peer, (tx) => tx.agentCredentials.issue({ agentId }))),
      ).toBeInstanceOf(ForbiddenError);
      const all = await inTenant(async (tx) => (await tx.agentCredentials.list({ limit: 1000 })).items);
      expect(all.some((k) => k.agentId === agentId) && all.some((k) => k.agentId === peerId)).toBe(true);
    });

    it('pages through the keys by prefix, to the end, and hides other tenants', async () => {
      const pages = await allPages(3, (page) => inTenant((tx) => tx.agentCredentials.list(page)));
      const prefixes = pages.flat().map((k) => k.keyPrefix);
      expect(prefixes).toEqual([...prefixes].sort());
      expect(new Set(prefixes).size).toBe(
        await ownerCount(h, 'agent_credentials WHERE tenant_id = $1', [f.tenant.id]),
      );
      const { items } = await h.store.withTenant(other.context, (tx) => tx.agentCredentials.list());
      expect(items).toEqual([]);
      const [first] = pages[0]!;
      expect((await inTenant((tx) => tx.agentCredentials.get(first!.id))).keyPrefix).toBe(first!.keyPrefix);
      expect(
        await caught(h.store.withTenant(other.context, (tx) => tx.agentCredentials.get(first!.id))),
      ).toBeInstanceOf(NotFoundError);
    });
  });

  it('refuses malformed request context before touching the database', async () => {
    const before = await ownerCount(h, 'agent_credential_uses');
    const error = await caught(h.store.authenticate('x', { request: { clientAddress: 'a'.repeat(300) } }));
    expect(error).toMatchObject({ issues: [{ path: 'clientAddress' }] });
    expect(await ownerCount(h, 'agent_credential_uses')).toBe(before);
  });
});

describeEachEngine(
  'agent credentials under concurrency',
  (h) => {
    it('verifies 200 keys concurrently across 20 connections with a rotation and a revocation in between', async () => {
      const f = await createTenant(h.store);
      const agentId = await createAgent(h.store, f.tenant.id, { code: 'busy' });
      const store = await h.openAnother({ postgres: { max: 20 } });
      try {
        const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => store.withTenant(f.context, work);
        const old = (await inTenant((tx) => tx.agentCredentials.issue({ agentId }))).key.reveal();
        const verify = (key: string) => store.authenticate(key).then((identity) => identity.agentId);
        const firstWave = Array.from({ length: 100 }, () => verify(old));
        const rotation = inTenant((tx) => tx.agentCredentials.rotate({ agentId }));
        const fresh = (await rotation).key.reveal();
        const secondWave = Array.from({ length: 100 }, (_, i) => verify(i % 2 === 0 ? old : fresh));
        const results = await Promise.all([...firstWave, ...secondWave]);
        expect(results).toEqual(Array(200).fill(agentId));

        await inTenant((tx) => tx.agentCredentials.revoke({ agentId, keyPrefix: prefixOf(old) }));
        const after = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) => verify(i % 2 === 0 ? old : fresh)),
        );
        const refused = after.filter((r) => r.status === 'rejected');
        expect(refused).toHaveLength(20);
        for (const r of refused)
          expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'key_revoked' });

        const counts = await h.asOwner((c) =>
          c.query<{ outcome: string; n: number }>(
            `SELECT outcome, count(*)::int AS n FROM agent_credential_uses WHERE tenant_id = $1 GROUP BY outcome ORDER BY outcome`,
            [f.tenant.id],
          ),
        );
        expect(counts).toEqual([
          { outcome: 'revoked', n: 20 },
          { outcome: 'success', n: 220 },
        ]);
      } finally {
        await store.close();
      }
    });
  },
  'server',
);
