import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ForbiddenError,
  MigrationError,
  openStore,
  SchemaVersionError,
  type Store,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';

const PASSWORD = 'agentflow-login-test';

describeEachEngine(
  'connecting as an application login role',
  (h) => {
    // Roles belong to the whole server: unique names, dropped again after the suite.
    const suffix = randomBytes(4).toString('hex');
    const serving = `af_login_${suffix}`;
    const tenantOnly = `af_tenant_login_${suffix}`;
    const stores: Store[] = [];
    let asServing: Store;
    let asTenantOnly: Store;
    let a: TenantFixture;
    let b: TenantFixture;

    const urlFor = (role: string) => {
      const url = new URL(h.url);
      url.username = role;
      url.password = PASSWORD;
      return url.toString();
    };
    const open = async (role: string) => {
      const store = await openStore({ url: urlFor(role), postgres: { max: 2 } });
      stores.push(store);
      return store;
    };

    beforeAll(async () => {
      await h.asOwner(async (c) => {
        for (const role of [serving, tenantOnly])
          await c.exec(`CREATE ROLE ${role} LOGIN NOINHERIT PASSWORD '${PASSWORD}'`);
        await c.exec(`GRANT agentflow_app, agentflow_service TO ${serving}`);
        await c.exec(`GRANT agentflow_app TO ${tenantOnly}`);
      });
      asServing = await open(serving);
      asTenantOnly = await open(tenantOnly);
      a = await createTenant(asServing);
      b = await createTenant(asServing);
      await h.store.withTenant(b.context, (tx) => tx.projects.create({ slug: 'b-secret', name: 'B' }));
    });

    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
      await h.asOwner(async (c) => {
        for (const role of [serving, tenantOnly]) await c.exec(`DROP ROLE IF EXISTS ${role}`);
      });
    });

    it('opens the store and runs tenant and service work, audited under the application roles', async () => {
      const project = await asServing.withTenant(a.context, (tx) =>
        tx.projects.create({ slug: 'a-project', name: 'A' }),
      );
      expect(await asTenantOnly.withTenant(a.context, (tx) => tx.projects.get(project.id))).toMatchObject({
        slug: 'a-project',
      });
      const [audit] = await h.asOwner((c) =>
        c.query<{ actor_id: string; db_role: string }>(
          `SELECT actor_id, db_role FROM audit_logs WHERE table_name = 'projects' AND row_id = $1`,
          [project.id],
        ),
      );
      expect(audit).toEqual({ actor_id: a.actor.id, db_role: 'agentflow_app' });
      const report = await asServing.verify();
      expect(report, JSON.stringify(report.checks)).toMatchObject({ ok: true });
    });

    it('keeps a tenant to its own rows', async () => {
      const slugs = await asTenantOnly.withTenant(a.context, async (tx) =>
        (await tx.projects.list()).items.map((p) => p.slug),
      );
      expect(slugs).not.toContain('b-secret');
    });

    it('leaves SQL that resets the role with no privileges at all (NOINHERIT)', async () => {
      for (const store of [asServing, asTenantOnly]) {
        const error = await caught(
          store.withTenant(a.context, async (tx) => {
            await tx.query('SET LOCAL ROLE NONE');
            return tx.query('SELECT id FROM projects');
          }),
        );
        expect(error).toBeInstanceOf(ForbiddenError);
      }
    });

    it('refuses service work, and a switch to the service role, to a tenant-only login role', async () => {
      expect(
        await caught(asTenantOnly.asService({ actor: 'test' }, (svc) => svc.tenants.list())),
      ).toBeInstanceOf(ForbiddenError);
      const switched = await caught(
        asTenantOnly.withTenant(a.context, (tx) =>
          tx.query(`SELECT set_config('role', 'agentflow_service', true)`),
        ),
      );
      expect(switched).toBeInstanceOf(ForbiddenError);
    });

    it('refuses to roll back, naming the role, and only reads when the schema is up to date', async () => {
      const error = await caught(asServing.migrator.rollback());
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toContain(serving);
      expect(await asServing.migrator.migrate()).toEqual([]);
      expect((await h.store.migrator.status()).current).toBe(h.store.migrator.latestVersion);
    });

    it('refuses to apply pending migrations, naming the role, before the lock and any DDL', async () => {
      const latest = h.store.migrator.latestVersion;
      await h.store.migrator.rollback(latest - 1, { force: true });
      const statements: string[] = [];
      try {
        const error = await caught(
          openStore({ url: urlFor(serving), migrate: true, onQuery: (text) => statements.push(text) }),
        );
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as Error).message).toContain(`${serving} does not own the schema`);
        expect(
          statements.filter((text) => /^\s*(create|alter|drop|grant|revoke)\b|pg_advisory/i.test(text)),
        ).toEqual([]);
      } finally {
        await h.store.migrator.migrate();
      }
    });

    it('names the fix when the schema predates the grant that lets login roles read its version', async () => {
      await h.store.migrator.rollback(0, { force: true });
      try {
        const error = await caught(openStore({ url: urlFor(serving) }));
        expect(error).toBeInstanceOf(SchemaVersionError);
        expect((error as Error).message).toMatch(/may not read schema_migrations.*as the schema owner/);
        // A login role must not migrate even an outdated schema: refused before the lock and any DDL.
        const migrating = await caught(openStore({ url: urlFor(serving), migrate: true }));
        expect(migrating).toBeInstanceOf(SchemaVersionError);
      } finally {
        await h.store.migrator.migrate();
      }
    });
  },
  'server',
);
