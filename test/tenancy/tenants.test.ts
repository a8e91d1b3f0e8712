import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DatabaseError,
  ForbiddenError,
  NotFoundError,
  type ServiceTx,
  type Tenant,
  type TenantStatus,
  ValidationError,
} from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { JSON_DOCUMENT_MAX_BYTES } from '../../src/shared/validation.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture, uniqueSlug } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

/** The lifecycle the design asks for, written out independently of the implementation's table. */
const EXPECTED_TRANSITIONS: Record<TenantStatus, TenantStatus[]> = {
  pending: ['active', 'deleted'],
  active: ['suspended', 'deleted'],
  suspended: ['active', 'deleted'],
  deleted: [],
};
const STATUSES = Object.keys(EXPECTED_TRANSITIONS) as TenantStatus[];

interface TenantRow {
  slug: string;
  status: string;
  plan: string;
  usage: Record<string, number>;
  quotas: Record<string, number>;
  deleted_at: Date | null;
}

async function tenantRow(h: EngineHarness, id: string): Promise<TenantRow> {
  const [row] = await h.asOwner((c) =>
    c.query<TenantRow>('SELECT slug, status, plan, usage, quotas, deleted_at FROM tenants WHERE id = $1', [
      id,
    ]),
  );
  if (!row) throw new Error(`tenant ${id} has no row`);
  return row;
}

describeEachEngine('tenants', (h) => {
  const svc = <T>(work: (tx: ServiceTx) => Promise<T>) => h.store.asService({ actor: 'tenants-test' }, work);
  /** The service role: the only caller that may lower a counter or touch `projects`. */
  const adjustUsage = (tenantId: string, counter: string, amount: number) =>
    svc((tx) => tx.tenants.adjustUsage(tenantId, counter, amount));

  it('refuses a usage adjustment of 0, a malformed counter or an unknown tenant, with typed errors', async () => {
    const f = await createTenant(h.store);
    expect(await caught(adjustUsage(f.tenant.id, 'tokens', 0))).toBeInstanceOf(ValidationError);
    expect(await caught(adjustUsage(f.tenant.id, 'Not A Counter', 1))).toBeInstanceOf(ValidationError);
    expect(await caught(adjustUsage(f.tenant.id, 'tokens', 1.5))).toBeInstanceOf(ValidationError);
    expect(await caught(adjustUsage(randomUUID(), 'tokens', 1))).toBeInstanceOf(NotFoundError);
    expect((await tenantRow(h, f.tenant.id)).usage).toEqual({});
  });

  /** A tenant brought to `status` along the lifecycle. */
  async function tenantIn(status: TenantStatus): Promise<Tenant> {
    return svc(async (tx) => {
      const slug = uniqueSlug('lc');
      const tenant = await tx.tenants.create({
        slug,
        name: `Lifecycle ${slug}`,
        status: status === 'pending' ? 'pending' : 'active',
      });
      if (status === 'suspended') return tx.tenants.setStatus(tenant.id, 'suspended');
      if (status === 'deleted') return tx.tenants.delete(tenant.id);
      return tenant;
    });
  }

  describe('create', () => {
    it('defaults to the free plan, pending status and empty settings, quotas and usage', async () => {
      const slug = uniqueSlug('new');
      const tenant = await svc((tx) => tx.tenants.create({ slug, name: 'New Co' }));
      expect(tenant).toMatchObject({
        slug,
        name: 'New Co',
        plan: 'free',
        status: 'pending',
        settings: {},
        quotas: {},
        usage: {},
        deletedAt: null,
      });
      const row = await tenantRow(h, tenant.id);
      expect(row).toMatchObject({ slug, plan: 'free', status: 'pending', deleted_at: null });
      expect(await svc((tx) => tx.tenants.get(tenant.id))).toMatchObject({ id: tenant.id, slug });
      expect(await svc((tx) => tx.tenants.getBySlug(slug))).toMatchObject({ id: tenant.id });
    });

    it('refuses to create a tenant directly in a later status', async () => {
      const slug = uniqueSlug('sus');
      const error = await caught(
        svc((tx) => tx.tenants.create({ slug, name: 'X', status: 'suspended' as 'active' })),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(await ownerCount(h, 'tenants WHERE slug = $1', [slug])).toBe(0);
    });

    it('keeps slugs unique among live tenants and frees the slug of a deleted one', async () => {
      const slug = uniqueSlug('dup');
      const first = await svc((tx) => tx.tenants.create({ slug, name: 'First' }));
      const error = await caught(svc((tx) => tx.tenants.create({ slug, name: 'Second' })));
      expect(error).toBeInstanceOf(ConflictError);
      expect(await ownerCount(h, 'tenants WHERE slug = $1', [slug])).toBe(1);

      const deleted = await svc((tx) => tx.tenants.delete(first.id));
      expect(deleted.status).toBe('deleted');
      expect(deleted.deletedAt).toBeInstanceOf(Date);
      await expect(svc((tx) => tx.tenants.getBySlug(slug))).rejects.toBeInstanceOf(NotFoundError);

      const reused = await svc((tx) => tx.tenants.create({ slug, name: 'Reused' }));
      expect(reused.id).not.toBe(first.id);
      expect(await ownerCount(h, 'tenants WHERE slug = $1', [slug])).toBe(2);
      expect(await ownerCount(h, 'tenants WHERE slug = $1 AND deleted_at IS NULL', [slug])).toBe(1);
      expect((await svc((tx) => tx.tenants.getBySlug(slug))).id).toBe(reused.id);
      // The deleted tenant is still there for the record.
      expect((await svc((tx) => tx.tenants.get(first.id))).status).toBe('deleted');
    });
  });

  describe('lifecycle', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const allowed = EXPECTED_TRANSITIONS[from].includes(to);
        it(`${allowed ? 'allows' : 'refuses'} ${from} → ${to}`, async () => {
          const tenant = await tenantIn(from);
          expect((await tenantRow(h, tenant.id)).status).toBe(from);
          if (allowed) {
            const moved = await svc((tx) => tx.tenants.setStatus(tenant.id, to));
            expect(moved.status).toBe(to);
            const row = await tenantRow(h, tenant.id);
            expect(row.status).toBe(to);
            expect(row.deleted_at === null).toBe(to !== 'deleted');
          } else {
            const audited = await ownerCount(h, `audit_logs WHERE table_name = 'tenants' AND row_id = $1`, [
              tenant.id,
            ]);
            // Caught inside the transaction, which then commits: a refused move must write nothing.
            await svc(async (tx) => {
              const error = await caught(tx.tenants.setStatus(tenant.id, to));
              expect(error).toBeInstanceOf(ConflictError);
              expect((error as Error).message).toContain(from);
            });
            expect((await tenantRow(h, tenant.id)).status).toBe(from);
            expect(
              await ownerCount(h, `audit_logs WHERE table_name = 'tenants' AND row_id = $1`, [tenant.id]),
            ).toBe(audited);
          }
        });
      }
    }

    it('treats deleted as final: a second soft delete is a conflict', async () => {
      const tenant = await tenantIn('deleted');
      await expect(svc((tx) => tx.tenants.delete(tenant.id))).rejects.toBeInstanceOf(ConflictError);
      expect((await tenantRow(h, tenant.id)).status).toBe('deleted');
    });

    it('reports an unknown tenant as not found and an unknown status as invalid', async () => {
      const tenant = await tenantIn('active');
      await expect(
        svc((tx) => tx.tenants.setStatus('00000000-0000-4000-8000-000000000000', 'active')),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        svc((tx) => tx.tenants.setStatus(tenant.id, 'archived' as TenantStatus)),
      ).rejects.toBeInstanceOf(ValidationError);
      expect((await tenantRow(h, tenant.id)).status).toBe('active');
    });
  });

  describe('plan and quotas', () => {
    it('sets the plan, and refuses an unknown plan without changing it', async () => {
      const tenant = await tenantIn('active');
      const upgraded = await svc((tx) => tx.tenants.setPlan(tenant.id, 'professional'));
      expect(upgraded.plan).toBe('professional');
      expect((await tenantRow(h, tenant.id)).plan).toBe('professional');
      const error = await caught(svc((tx) => tx.tenants.setPlan(tenant.id, 'platinum' as Tenant['plan'])));
      expect(error).toBeInstanceOf(ValidationError);
      expect((await tenantRow(h, tenant.id)).plan).toBe('professional');
      await expect(
        svc((tx) => tx.tenants.setPlan('00000000-0000-4000-8000-000000000000', 'starter')),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it('replaces the quotas as a whole, and refuses invalid ones without changing them', async () => {
      const tenant = await tenantIn('active');
      await svc((tx) => tx.tenants.setQuotas(tenant.id, { projects: 5, seats: 3 }));
      expect((await tenantRow(h, tenant.id)).quotas).toEqual({ projects: 5, seats: 3 });
      const replaced = await svc((tx) => tx.tenants.setQuotas(tenant.id, { seats: 1 }));
      expect(replaced.quotas).toEqual({ seats: 1 });
      expect((await tenantRow(h, tenant.id)).quotas).toEqual({ seats: 1 });
      for (const bad of [{ seats: -1 }, { seats: 1.5 }, { 'Bad Name': 1 }, { seats: '2' }]) {
        const error = await caught(svc((tx) => tx.tenants.setQuotas(tenant.id, bad as never)));
        expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      }
      expect((await tenantRow(h, tenant.id)).quotas).toEqual({ seats: 1 });
    });
  });

  describe('list', () => {
    const prefix = `ls-${randomBytes(3).toString('hex')}`;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      await svc(async (tx) => {
        for (const suffix of ['e', 'b', 'd', 'a', 'c']) {
          const t = await tx.tenants.create({ slug: `${prefix}-${suffix}`, name: suffix, status: 'active' });
          ids[suffix] = t.id;
        }
        await tx.tenants.setStatus(ids.c!, 'suspended');
        await tx.tenants.delete(ids.d!);
      });
    });

    const mine = (tenants: Tenant[]) => tenants.map((t) => t.slug).filter((s) => s.startsWith(`${prefix}-`));

    it('pages through live tenants in slug order', async () => {
      const all = await svc((tx) => tx.tenants.list({ limit: 1000 }));
      expect(all.nextCursor).toBeNull();
      // d is deleted: it is skipped, not counted against a page.
      expect(mine(all.items)).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`, `${prefix}-e`]);
      const slugs = all.items.map((t) => t.slug);
      expect(slugs).toEqual([...slugs].sort());
      for (const limit of [1, 2, 3]) {
        const pages = await allPages(limit, (page) => svc((tx) => tx.tenants.list(page)));
        expect(
          pages.flat().map((t) => t.id),
          `limit ${limit}`,
        ).toEqual(all.items.map((t) => t.id));
      }
    });

    it('pages through deleted tenants that share a slug, ordered by id among them', async () => {
      const slug = `${prefix}-again`;
      for (let n = 0; n < 3; n++)
        await svc(async (tx) =>
          tx.tenants.delete((await tx.tenants.create({ slug, name: `Again ${n}` })).id),
        );
      const expected = await h.asOwner((c) =>
        c.query<{ id: string }>(`SELECT id FROM tenants WHERE status = 'deleted' ORDER BY slug, id`),
      );
      expect(expected.length).toBeGreaterThanOrEqual(4);
      for (const limit of [1, 2]) {
        const pages = await allPages(limit, (page) =>
          svc((tx) => tx.tenants.list({ ...page, status: 'deleted' })),
        );
        expect(
          pages.flat().map((t) => t.id),
          `limit ${limit}`,
        ).toEqual(expected.map((row) => row.id));
      }
    });

    it('filters by status, including deleted tenants when asked for them', async () => {
      const { items: suspended } = await svc((tx) => tx.tenants.list({ status: 'suspended', limit: 500 }));
      expect(suspended.every((t) => t.status === 'suspended')).toBe(true);
      expect(suspended.map((t) => t.id)).toContain(ids.c);
      const { items: deleted } = await svc((tx) => tx.tenants.list({ status: 'deleted', limit: 500 }));
      expect(deleted.every((t) => t.status === 'deleted')).toBe(true);
      expect(deleted.map((t) => t.id)).toContain(ids.d);
      const { items: active } = await svc((tx) => tx.tenants.list({ status: 'active', limit: 500 }));
      expect(active.every((t) => t.status === 'active')).toBe(true);
      expect(active.map((t) => t.id)).toEqual(expect.arrayContaining([ids.a, ids.b, ids.e]));
      expect(active.map((t) => t.id)).not.toContain(ids.c);
    });

    it('refuses a bad list query', async () => {
      for (const bad of [
        { limit: 0 },
        { limit: 1001 },
        { status: 'gone' },
        { afterSlug: `${prefix}-a` },
        { cursor: encodeCursor('tenants', ['Not A Slug', ids.a!]) },
        { cursor: encodeCursor('projects', [`${prefix}-a`, ids.a!]) },
        { x: 1 },
      ]) {
        const error = await caught(svc((tx) => tx.tenants.list(bad as never)));
        expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('settings and usage (inside the tenant)', () => {
    let f: TenantFixture;
    beforeAll(async () => {
      f = await createTenant(h.store, { quotas: { seats: 3 } });
    });

    it('merges settings: top-level keys replace, others stay', async () => {
      await h.store.withTenant(f.context, (tx) =>
        tx.tenants.updateSettings({ theme: 'dark', nested: { x: 1 } }),
      );
      const merged = await h.store.withTenant(f.context, (tx) =>
        tx.tenants.updateSettings({ locale: 'fr', nested: { y: 2 } }),
      );
      expect(merged.settings).toEqual({ theme: 'dark', locale: 'fr', nested: { y: 2 } });
      expect((await h.store.withTenant(f.context, (tx) => tx.tenants.current())).settings).toEqual(
        merged.settings,
      );
      const error = await caught(
        h.store.withTenant(f.context, (tx) => tx.tenants.updateSettings(['not', 'an', 'object'] as never)),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((await h.store.withTenant(f.context, (tx) => tx.tenants.current())).settings).toEqual(
        merged.settings,
      );
    });

    it('keeps the merged settings within 1 MiB as stored: a patch under the cap that would pass it changes nothing', async () => {
      const g = await createTenant(h.store);
      const update = (patch: Record<string, unknown>) =>
        h.store.withTenant(g.context, (tx) => tx.tenants.updateSettings(patch));
      const stored = async () => {
        const [row] = await h.asOwner((c) =>
          c.query<{ bytes: number; settings: Record<string, string> }>(
            'SELECT octet_length(settings::text)::int AS bytes, settings FROM tenants WHERE id = $1',
            [g.tenant.id],
          ),
        );
        return row!;
      };
      await update({ a: 'x'.repeat(JSON_DOCUMENT_MAX_BYTES / 2) });
      // Up to the bound exactly: a key `b` adds `, "b": ""` (9 bytes) around its string.
      const room = JSON_DOCUMENT_MAX_BYTES - (await stored()).bytes - 9;
      await update({ b: 'y'.repeat(room) });
      const full = await stored();
      expect(full.bytes).toBe(JSON_DOCUMENT_MAX_BYTES);
      const audited = await ownerCount(h, 'audit_logs WHERE tenant_id = $1', [g.tenant.id]);
      for (const patch of [{ b: 'y'.repeat(room + 1) }, { c: true }]) {
        const error = await caught(update(patch));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues).toEqual([
          {
            path: 'settings',
            message: expect.stringContaining(`must not exceed ${JSON_DOCUMENT_MAX_BYTES} bytes`),
          },
        ]);
        expect(((error as ValidationError).cause as DatabaseError).constraint).toBe('tenants_settings_size');
      }
      expect(await stored()).toEqual(full);
      expect(await ownerCount(h, 'audit_logs WHERE tenant_id = $1', [g.tenant.id])).toBe(audited);
      // Replacing a key with something smaller still works.
      expect((await update({ b: 'small' })).settings.b).toBe('small');
    });

    it('checks the settings bound only when settings are written, not on every update of the tenant row', async () => {
      const g = await createTenant(h.store);
      // Settings past the bound, as a database could hold them from before the bound existed.
      await h.asOwner((c) =>
        c.exec(`ALTER TABLE tenants DISABLE TRIGGER tenants_settings_size;
          UPDATE tenants SET settings = jsonb_build_object('big', repeat('x', ${JSON_DOCUMENT_MAX_BYTES}))
           WHERE id = '${g.tenant.id}';
          ALTER TABLE tenants ENABLE TRIGGER tenants_settings_size;`),
      );
      // The usage counters update the same row for every project created: a CHECK would refuse them.
      const usage = await h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage('tokens'));
      expect(usage).toBe(1);
      expect(
        await caught(h.store.withTenant(g.context, (tx) => tx.tenants.updateSettings({ c: 1 }))),
      ).toBeInstanceOf(ValidationError);
    });

    it('returns the new value of each increment', async () => {
      const values = await h.store.withTenant(f.context, async (tx) => [
        await tx.tenants.incrementUsage('tokens'),
        await tx.tenants.incrementUsage('tokens', 4),
        await tx.tenants.incrementUsage('tokens', 2),
      ]);
      expect(values).toEqual([1, 5, 7]);
      expect((await tenantRow(h, f.tenant.id)).usage.tokens).toBe(7);
    });

    it('refuses to go below zero with a ConflictError and changes nothing', async () => {
      await h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('credits', 2));
      for (const [counter, by] of [
        ['credits', -3],
        ['never_used', -1],
      ] as const) {
        const error = await caught(adjustUsage(f.tenant.id, counter, by));
        expect(error, counter).toBeInstanceOf(ConflictError);
        expect((error as Error).message, counter).toContain(counter);
      }
      const usage = (await tenantRow(h, f.tenant.id)).usage;
      expect(usage.credits).toBe(2);
      expect(usage).not.toHaveProperty('never_used');
    });

    it('refuses to exceed a quota with a ForbiddenError and changes nothing', async () => {
      expect(await h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('seats', 3))).toBe(3);
      for (const by of [1, 10]) {
        const error = await caught(
          h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('seats', by)),
        );
        expect(error, `+${by}`).toBeInstanceOf(ForbiddenError);
        expect((error as Error).message, `+${by}`).toContain('seats');
      }
      expect((await tenantRow(h, f.tenant.id)).usage.seats).toBe(3);
      // Freeing one (the service role's call) makes room for one again.
      await adjustUsage(f.tenant.id, 'seats', -1);
      expect(await h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('seats'))).toBe(3);
    });

    it('refuses a zero, negative or malformed increment, and one of projects', async () => {
      for (const [counter, by] of [
        ['seats', 0],
        ['seats', -1],
        ['projects', 1],
        ['Seats', 1],
        ['', 1],
        ['seats', 1.5],
      ] as const) {
        const error = await caught(
          h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage(counter, by)),
        );
        expect(error, `${counter} ${by}`).toBeInstanceOf(ValidationError);
      }
      expect((await tenantRow(h, f.tenant.id)).usage.seats).toBe(3);
    });

    it('never refuses a decrement because of a quota (usage over a lowered quota can still be freed)', async () => {
      const g = await createTenant(h.store);
      await h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage('seats', 3));
      await svc((tx) => tx.tenants.setQuotas(g.tenant.id, { seats: 0 }));
      const value = await adjustUsage(g.tenant.id, 'seats', -1);
      expect(value).toBe(2);
      expect((await tenantRow(h, g.tenant.id)).usage.seats).toBe(2);
    });

    it('counts 50 concurrent increments exactly', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          h.store.withTenant(f.context, (tx) => tx.tenants.incrementUsage('hits')),
        ),
      );
      expect((await tenantRow(h, f.tenant.id)).usage.hits).toBe(50);
      // Each transaction saw a distinct value: none was lost or counted twice.
      expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('lets exactly the quota through when increments race', async () => {
      const g = await createTenant(h.store, { quotas: { slots: 10 } });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, () =>
          h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage('slots')),
        ),
      );
      const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(fulfilled).toHaveLength(10);
      expect(rejected).toHaveLength(20);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(ForbiddenError);
      expect((await tenantRow(h, g.tenant.id)).usage.slots).toBe(10);
    });
  });

  describe('a tenant cannot lower its usage to get around a quota', () => {
    let g: TenantFixture;
    const usageOf = async () => (await tenantRow(h, g.tenant.id)).usage;
    beforeAll(async () => {
      g = await createTenant(h.store, { quotas: { projects: 1, tokens: 5 } });
      await h.store.withTenant(g.context, async (tx) => {
        await tx.projects.create({ slug: 'only', name: 'Only' });
        await tx.tenants.incrementUsage('tokens', 5);
      });
    });

    it('refuses a decrement or any change of projects through the repository with a ValidationError', async () => {
      for (const [counter, by] of [
        ['tokens', -1],
        ['tokens', -5],
        ['projects', -1],
        ['projects', 1],
      ] as const) {
        const error = await caught(
          h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage(counter, by)),
        );
        expect(error, `${counter} ${by}`).toBeInstanceOf(ValidationError);
      }
      expect(await usageOf()).toEqual({ projects: 1, tokens: 5 });
    });

    it('refuses the same with raw SQL as the app role (ForbiddenError), so the quotas still hold', async () => {
      for (const [counter, amount] of [
        ['tokens', -1],
        ['tokens', 0],
        ['tokens', null],
        ['projects', -1],
        ['projects', 1],
        ['projects', 0],
      ] as const) {
        const label = `${counter} ${amount}`;
        const error = await caught(
          h.store.withTenant(g.context, (tx) =>
            tx.query('SELECT agentflow.add_usage($1, $2, $3)', [g.tenant.id, counter, amount]),
          ),
        );
        expect(error, label).toBeInstanceOf(ForbiddenError);
        expect((error as ForbiddenError).cause, label).toBeInstanceOf(DatabaseError);
        expect(((error as ForbiddenError).cause as DatabaseError).kind, label).toBe('insufficient_privilege');
        expect((error as Error).message, label).toContain(counter);
      }
      expect(await usageOf()).toEqual({ projects: 1, tokens: 5 });
      // The whole bypass in one unit of work: lower, then create. The lowering fails, and so does
      // the unit of work, so nothing is written.
      const bypass = await caught(
        h.store.withTenant(g.context, async (tx) => {
          await tx.query(`SELECT agentflow.add_usage($1, 'projects', -1)`, [g.tenant.id]);
          return tx.projects.create({ slug: 'second', name: 'Second' });
        }),
      );
      expect(bypass).toBeInstanceOf(ForbiddenError);
      await expect(
        h.store.withTenant(g.context, (tx) => tx.projects.create({ slug: 'second', name: 'Second' })),
      ).rejects.toBeInstanceOf(ForbiddenError);
      await expect(
        h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage('tokens')),
      ).rejects.toBeInstanceOf(ForbiddenError);
      expect(await usageOf()).toEqual({ projects: 1, tokens: 5 });
      expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [g.tenant.id])).toBe(1);
    });

    it('lets the service role lower or correct any counter, projects included', async () => {
      expect(await adjustUsage(g.tenant.id, 'tokens', -2)).toBe(3);
      expect(await adjustUsage(g.tenant.id, 'projects', -1)).toBe(0);
      expect(await adjustUsage(g.tenant.id, 'projects', 1)).toBe(1);
      expect(await usageOf()).toEqual({ projects: 1, tokens: 3 });
      // Room freed by the operator is room the tenant can use again.
      expect(await h.store.withTenant(g.context, (tx) => tx.tenants.incrementUsage('tokens', 2))).toBe(5);
    });
  });

  describe('project quota', () => {
    it('counts project creation against the projects quota; a soft delete frees a slot', async () => {
      const f = await createTenant(h.store, { quotas: { projects: 2 } });
      const projectCount = () => ownerCount(h, 'projects WHERE tenant_id = $1', [f.tenant.id]);
      const first = await h.store.withTenant(f.context, (tx) =>
        tx.projects.create({ slug: 'one', name: 'One' }),
      );
      await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'two', name: 'Two' }));
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(2);

      await expect(
        h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'three', name: 'Three' })),
      ).rejects.toBeInstanceOf(ForbiddenError);
      expect(await projectCount()).toBe(2);
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(2);

      await h.store.withTenant(f.context, (tx) => tx.projects.delete(first.id));
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(1);
      // A failed create (duplicate slug) does not consume quota.
      await expect(
        h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'two', name: 'Two again' })),
      ).rejects.toBeInstanceOf(ConflictError);
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(1);

      const third = await h.store.withTenant(f.context, (tx) =>
        tx.projects.create({ slug: 'three', name: 'Three' }),
      );
      expect(third.slug).toBe('three');
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(2);
      expect(await ownerCount(h, 'projects WHERE tenant_id = $1 AND deleted_at IS NULL', [f.tenant.id])).toBe(
        2,
      );
    });

    it('lets a tenant over a lowered projects quota still delete projects', async () => {
      const f = await createTenant(h.store, { quotas: { projects: 2 } });
      const ids = await h.store.withTenant(f.context, async (tx) => [
        (await tx.projects.create({ slug: 'keep', name: 'Keep' })).id,
        (await tx.projects.create({ slug: 'drop', name: 'Drop' })).id,
      ]);
      // The operator downgrades the plan below what the tenant already uses.
      await svc((tx) => tx.tenants.setQuotas(f.tenant.id, { projects: 0 }));
      await h.store.withTenant(f.context, (tx) => tx.projects.delete(ids[1]!));
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(1);
      expect(await ownerCount(h, 'projects WHERE tenant_id = $1 AND deleted_at IS NULL', [f.tenant.id])).toBe(
        1,
      );
    });

    it('purges a tenant (hard delete by the service role) together with its projects, agents and timeline', async () => {
      const f = await createTenant(h.store);
      await h.store.withTenant(f.context, async (tx) => {
        const project = await tx.projects.create({ slug: 'live', name: 'Live' });
        await tx.projectFiles.upsert({ projectId: project.id, path: 'a.txt', content: 'a' });
        const gone = await tx.projects.create({ slug: 'gone', name: 'Gone' });
        await tx.projects.delete(gone.id);
      });
      // Its AI staff and everything they left: keys and their use, sessions (one stopped, so frozen),
      // the timeline (an organization agent's KPI events belong to no project) and KPI history.
      const key = await h.store.withTenant(f.context, async (tx) => {
        const project = await tx.projects.getBySlug('live');
        const dev = await tx.agents.create({
          code: 'dev',
          name: 'Dev',
          type: 'backend_dev',
          roleTitle: 'Developer',
          projectId: project.id,
        });
        const cto = await tx.agents.create({
          code: 'cto',
          name: 'CTO',
          type: 'orchestrator',
          roleTitle: 'CTO',
        });
        const { session } = await tx.workSessions.start({ agentId: dev.id, projectId: project.id });
        await tx.workSessions.stop(session.id);
        await tx.workSessions.start({ agentId: dev.id, projectId: project.id });
        await tx.events.append({ type: 'advice_given', authorId: cto.id, payload: { message: 'hi' } });
        await tx.kpis.record({ agentId: cto.id, metrics: { tasksCompleted: 1 } });
        await tx.kpis.recomputeTrustScore(cto.id);
        return (await tx.agentCredentials.issue({ agentId: dev.id })).key.reveal();
      });
      await h.store.authenticate(key);
      await svc((tx) => tx.query('DELETE FROM tenants WHERE id = $1', [f.tenant.id]));
      expect(await ownerCount(h, 'tenants WHERE id = $1', [f.tenant.id])).toBe(0);
      for (const table of [
        'projects',
        'project_files',
        'memberships',
        'agents',
        'agent_credentials',
        'agent_credential_uses',
        'work_sessions',
        'events',
        'event_mentions',
        'kpis',
      ])
        expect(await ownerCount(h, `${table} WHERE tenant_id = $1`, [f.tenant.id]), table).toBe(0);
    });

    // Server only: PGlite runs one transaction at a time, so there is nothing to interleave.
    it.runIf(h.kind === 'postgres')(
      'does not deadlock units of work that each hold a foreign-key lock on the tenant, then create a project, concurrently',
      async () => {
        const f = await createTenant(h.store);
        const units = 2;
        // Both transactions hold the FOR KEY SHARE lock that a foreign-key check on the tenant row
        // takes (inserting any row that references the tenant does) before either creates its project.
        let arrived = 0;
        let release: () => void = () => {};
        const bothLocked = new Promise<void>((resolve) => {
          release = resolve;
        });
        const outcomes = await Promise.allSettled(
          Array.from({ length: units }, (_, i) =>
            h.store.withTenant(f.context, async (tx) => {
              await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE', [tx.tenantId]);
              if (++arrived === units) release();
              await bothLocked;
              return tx.projects.create({ slug: `onboard-${i}`, name: `Onboard ${i}` });
            }),
          ),
        );
        const reasons = outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'));
        expect(reasons).toEqual(['ok', 'ok']);
        expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(2);
        expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [f.tenant.id])).toBe(2);
      },
    );

    it('admits exactly the quota of projects created concurrently', async () => {
      const f = await createTenant(h.store, { quotas: { projects: 2 } });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: `race-${i}`, name: `Race ${i}` })),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ForbiddenError);
      expect(await ownerCount(h, 'projects WHERE tenant_id = $1', [f.tenant.id])).toBe(2);
      expect((await tenantRow(h, f.tenant.id)).usage.projects).toBe(2);
    });
  });
});
