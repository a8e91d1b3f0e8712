import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MigrationError, openStore, type Store } from '../../src/index.ts';
import { seedDemo } from '../../src/seed/demo-seed.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant } from '../harness/fixtures.ts';
import { type CatalogSnapshot, catalogSnapshot } from './catalog.ts';
import { serverAdminUrl } from './empty-database.ts';

const PASSWORD = 'agentflow-owner-test';

// Managed PostgreSQL gives no superuser: the schema owner is a role with CREATEROLE that owns the
// database. The agentflow_* roles already exist on the cluster (the harness migrated h.store as the
// superuser), as they do once any database of a cluster has been migrated.
describeEachEngine(
  'migrating as a non-superuser owner with CREATEROLE',
  (h) => {
    // Roles belong to the whole server: a unique name, dropped again after the suite.
    const owner = `af_owner_${randomBytes(4).toString('hex')}`;
    const superuser = new URL(serverAdminUrl()).username;
    let admin: postgres.Sql;
    let store: Store | undefined;
    let url: string;

    /**
     * A catalog with the owner's name as the superuser's and each ACL's items sorted again, to
     * compare a migration by this owner with a superuser's.
     */
    const comparable = (snapshot: CatalogSnapshot, name: string): CatalogSnapshot =>
      Object.fromEntries(
        Object.entries(snapshot).map(([section, lines]) => [
          section,
          lines
            .map((line) =>
              line
                .replaceAll(name, superuser)
                .replace(
                  /acl=(\S+(?: [^ =]+)*)/,
                  (_, items: string) => `acl=${items.split(' ').sort().join(' ')}`,
                ),
            )
            .sort(),
        ]),
      );
    const ownerCatalog = async () =>
      comparable(await store!.engine.transaction(undefined, catalogSnapshot), owner);
    const superuserCatalog = async () => comparable(await h.asOwner(catalogSnapshot), superuser);

    beforeAll(async () => {
      admin = postgres(serverAdminUrl(), { max: 1, onnotice: () => {} });
      await admin.unsafe(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${PASSWORD}'`);
      await admin.unsafe(`CREATE DATABASE ${owner} OWNER ${owner}`);
      const ownerUrl = new URL(serverAdminUrl());
      ownerUrl.username = owner;
      ownerUrl.password = PASSWORD;
      ownerUrl.pathname = `/${owner}`;
      url = ownerUrl.toString();
    });

    afterAll(async () => {
      await store?.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${owner} WITH (FORCE)`);
      await admin.unsafe(`DROP ROLE IF EXISTS ${owner}`);
      await admin.end();
    });

    it('migrates to the latest version (granted the roles first from PostgreSQL 16), and db verify passes', async () => {
      const [server] = await admin<
        { version: string }[]
      >`SELECT current_setting('server_version_num') AS version`;
      if (Number(server!.version) >= 160_000) {
        // From 16 on, CREATEROLE grants only roles its holder created or holds with ADMIN OPTION:
        // roles created by another role must be granted to the owner by someone who may.
        const error = await caught(openStore({ url, migrate: true }));
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as Error).message).toContain(
          `run GRANT agentflow_app, agentflow_service, agentflow_definer TO ${owner}, then migrate again`,
        );
        await admin.unsafe(`GRANT agentflow_app, agentflow_service, agentflow_definer TO ${owner}`);
      }
      store = await openStore({ url, migrate: true, postgres: { max: 2 } });
      expect((await store.migrator.status()).current).toBe(store.migrator.latestVersion);
      const report = await store.verify();
      expect(report.checks.flatMap((check) => check.problems)).toEqual([]);
      // No CREATE left on schema agentflow, every function owned as a superuser's migration owns it.
      expect(await ownerCatalog()).toEqual(await superuserCatalog());
    });

    it('runs tenant and service work', async () => {
      const fixture = await createTenant(store!);
      const project = await store!.withTenant(fixture.context, (tx) =>
        tx.projects.create({ slug: 'owned', name: 'Owned' }),
      );
      expect(await store!.withTenant(fixture.context, (tx) => tx.projects.get(project.id))).toMatchObject({
        slug: 'owned',
      });
      expect(
        (await store!.asService({ actor: 'test' }, (svc) => svc.tenants.get(fixture.tenant.id))).usage,
      ).toEqual({ projects: 1 });
    });

    it('seeds the demo, verifies its keys and expires old events, under forced row-level security', async () => {
      // The triggers and SECURITY DEFINER functions of migrations 6–9 run as this owner, whom
      // forced row-level security binds as it binds any role (a superuser it would not).
      const demo = await seedDemo(store!);
      const identity = await store!.authenticate(demo.agentKeys[0]!.key);
      const [old] = await store!.engine.transaction(undefined, (c) =>
        c.query<{ id: string }>(
          `INSERT INTO events (tenant_id, type, author_id, payload, occurred_at)
           VALUES ($1, 'problem_report', $2, '{"title": "old", "severity": "low"}', now() - interval '2 years')
           RETURNING id::text`,
          [identity.tenantId, identity.agentId],
        ),
      );
      let written = '';
      const report = await store!.asService({ actor: 'test' }, (svc) =>
        svc.retention.exportExpired({
          tenantId: identity.tenantId,
          write: async (lines) => {
            written += lines;
          },
        }),
      );
      expect(report.results.find((r) => r.table === 'events')).toMatchObject({ exported: 1, purged: 1 });
      expect(written).toMatch(new RegExp(`"id": ?${old!.id}[,}]`));
      const left = await store!.withTenant(
        { tenantId: identity.tenantId, actor: { type: 'agent', id: identity.agentId } },
        (tx) => tx.events.list({ limit: 1000 }),
      );
      expect(left.items.length).toBeGreaterThan(0);
      expect(left.items.map((e) => String(e.id))).not.toContain(old!.id);
    });

    it('rolls back to 0 and migrates again to the same schema', async () => {
      const before = await ownerCatalog();
      const latest = store!.migrator.latestVersion;
      // The rows are counted as this owner, which forced row-level security binds like any role.
      const refused = await caught(store!.migrator.rollback(0));
      expect(refused).toBeInstanceOf(MigrationError);
      expect((refused as Error).message).toContain('3_projects drops table projects, which holds rows');
      expect((refused as Error).message).toContain('2_tenancy drops table tenants, which holds rows');
      expect(await ownerCatalog()).toEqual(before);
      expect(await store!.migrator.rollback(0, { force: true })).toHaveLength(latest);
      expect(await store!.migrator.migrate()).toHaveLength(latest);
      expect((await store!.verify()).ok).toBe(true);
      expect(await ownerCatalog()).toEqual(before);
    });
  },
  'server',
);
