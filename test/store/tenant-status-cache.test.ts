import { setTimeout as sleep } from 'node:timers/promises';
import { expect, inject, it } from 'vitest';
import { ConfigurationError, ForbiddenError, openStore } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant } from '../harness/fixtures.ts';
import { pgliteTemplateDump } from '../harness/pglite-template.ts';

const checksStatus = (text: string) => text.includes('require_usable_tenant');

describeEachEngine('the tenant-status check of a unit of work', (h) => {
  it('runs in the set-up of the first unit of a tenant, then not again while the status is fresh', async () => {
    const setups: string[] = [];
    const onQuery = (text: string) => {
      if (text.includes("set_config('agentflow.tenant_id'")) setups.push(text);
    };
    // A memory database cannot be opened twice: on PGlite the listening store gets its own (another
    // copy of the migrated template).
    const ownDatabase = h.kind === 'pglite';
    const store = ownDatabase
      ? await openStore({
          url: 'memory://',
          onQuery,
          pglite: { loadDataDir: await pgliteTemplateDump(inject('pgliteTemplateDump')) },
        })
      : await h.openAnother({ onQuery });
    try {
      const f = await createTenant(store);
      setups.length = 0;
      for (let unit = 0; unit < 3; unit++) await store.withTenant(f.context, (tx) => tx.projects.list());
      expect(setups.map(checksStatus)).toEqual([true, false, false]);
    } finally {
      if (ownDatabase) await store.close();
    }
  });

  it('applies a suspension made through the same store at once', async () => {
    const f = await createTenant(h.store);
    await h.store.withTenant(f.context, (tx) => tx.projects.list());
    await h.store.asService({ actor: 'test' }, (svc) => svc.tenants.setStatus(f.tenant.id, 'suspended'));
    expect(await caught(h.store.withTenant(f.context, (tx) => tx.projects.list()))).toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('refuses a cache time that is not a number of milliseconds >= 0', async () => {
    for (const tenantStatusCacheMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(await caught(openStore({ url: 'memory://', tenantStatusCacheMs }))).toBeInstanceOf(
        ConfigurationError,
      );
    }
  });
});

describeEachEngine(
  'a suspension made by another process',
  (h) => {
    it('applies to the next unit with a cache time of 0, and within the cache time otherwise', async () => {
      const f = await createTenant(h.store);
      const uncached = await h.openAnother({ tenantStatusCacheMs: 0 });
      const cached = await h.openAnother({ tenantStatusCacheMs: 200 });
      for (const store of [uncached, cached]) await store.withTenant(f.context, (tx) => tx.projects.list());

      await h.store.asService({ actor: 'test' }, (svc) => svc.tenants.setStatus(f.tenant.id, 'suspended'));
      expect(await caught(uncached.withTenant(f.context, (tx) => tx.projects.list()))).toBeInstanceOf(
        ForbiddenError,
      );
      await sleep(250);
      expect(await caught(cached.withTenant(f.context, (tx) => tx.projects.list()))).toBeInstanceOf(
        ForbiddenError,
      );
    });
  },
  'server',
);
