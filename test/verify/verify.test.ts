import { expect, it } from 'vitest';
import type { Connection } from '../../src/engine/engine.ts';
import { type VerifyReport, verifyDatabase } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';

class RolledBack extends Error {
  constructor(readonly report: VerifyReport) {
    super('rolled back');
  }
}

/** Applies `change` as the owner, verifies the catalog inside the same transaction, then rolls it all back. */
async function verifyAfter(h: EngineHarness, change: string): Promise<string[]> {
  const status = await h.store.migrator.status();
  const error = await h
    .asOwner(async (connection: Connection) => {
      await connection.exec(change);
      throw new RolledBack(await verifyDatabase(connection, status));
    })
    .catch((e: unknown) => e);
  if (!(error instanceof RolledBack)) throw error;
  return error.report.checks.flatMap((check) => check.problems);
}

describeEachEngine('db verify', (h) => {
  it('passes on a freshly migrated database', async () => {
    const report = await h.store.verify();
    expect(report.checks.flatMap((c) => c.problems)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('accepts the index of the foreign key to users, which a user delete searches without a tenant', async () => {
    const plan = await h.asOwner(async (c) => {
      await c.exec('SET LOCAL enable_seqscan = off');
      const rows = await c.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT 1 FROM memberships WHERE user_id = '00000000-0000-4000-8000-000000000001'`,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index (Only )?Scan (using|on) memberships_user_idx/);
    const problems = (await h.store.verify()).checks.flatMap((check) => check.problems);
    expect(problems.filter((p) => p.includes('memberships_user_idx'))).toEqual([]);
  });

  const breakages: Array<[string, string, RegExp]> = [
    [
      'TEMPORARY on the database given back to PUBLIC',
      `DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$`,
      /^agentflow_app may create temporary tables in this database/,
    ],
    [
      'a new tenant table without row-level security',
      'CREATE TABLE widgets (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id)); GRANT SELECT ON widgets TO agentflow_app',
      /^widgets: row-level security is not enabled$/,
    ],
    [
      'RLS enabled but not forced',
      'ALTER TABLE projects NO FORCE ROW LEVEL SECURITY',
      /^projects: .*not forced/,
    ],
    [
      'a missing policy for one command',
      'DROP POLICY project_files_tenant_delete ON project_files',
      /^project_files: no tenant-bound DELETE policy/,
    ],
    [
      'an open policy the app role can use',
      'CREATE POLICY leak ON agent_states FOR SELECT USING (true)',
      /^agent_states: policy leak lets agentflow_app SELECT rows of any tenant$/,
    ],
    [
      'an open policy for a role the app role belongs to',
      'CREATE ROLE agentflow_verify_group; GRANT agentflow_verify_group TO agentflow_app; CREATE POLICY leak ON projects FOR SELECT TO agentflow_verify_group USING (true)',
      /^projects: policy leak lets agentflow_app SELECT rows of any tenant$/,
    ],
    [
      'a tenant policy widened with OR true',
      'CREATE POLICY leak ON projects FOR SELECT USING (tenant_id = (SELECT agentflow.current_tenant_id()) OR true)',
      /^projects: policy leak lets agentflow_app SELECT rows of any tenant$/,
    ],
    [
      'a tenant policy with an extra condition on its WITH CHECK',
      'DROP POLICY tenants_tenant_update ON tenants; CREATE POLICY tenants_tenant_update ON tenants FOR UPDATE USING (id = (SELECT agentflow.current_tenant_id())) WITH CHECK (id = (SELECT agentflow.current_tenant_id()) OR name IS NOT NULL)',
      /^tenants: policy tenants_tenant_update lets agentflow_app UPDATE rows of any tenant$/,
    ],
    [
      'a tenant policy reading the setting per row, without the sub-select',
      "CREATE POLICY per_row ON memberships FOR SELECT USING (tenant_id = current_setting('agentflow.tenant_id')::uuid)",
      /^memberships: policy per_row is not exactly \(tenant_id = \( SELECT agentflow\.current_tenant_id\(\) AS current_tenant_id\)\): it reads the tenant other than once per statement$/,
    ],
    [
      'a tenant policy calling current_tenant_id() per row',
      'DROP POLICY project_files_tenant_select ON project_files; CREATE POLICY project_files_tenant_select ON project_files FOR SELECT USING (tenant_id = agentflow.current_tenant_id())',
      /^project_files: no tenant-bound SELECT policy for agentflow_app$/,
    ],
    [
      'a permissive policy widening agent_credentials beside its restrictive agent policy',
      'CREATE POLICY leak ON agent_credentials FOR SELECT USING (agent_id IS NOT NULL)',
      /^agent_credentials: policy leak lets agentflow_app SELECT rows of any tenant$/,
    ],
    [
      'the restrictive agent policy of agent_credentials made permissive',
      `DROP POLICY agent_credentials_agent_own ON agent_credentials; CREATE POLICY agent_credentials_agent_own ON agent_credentials FOR ALL TO agentflow_app USING (agent_id::text = (SELECT current_setting('agentflow.actor_id', true)))`,
      /^agent_credentials: policy agent_credentials_agent_own is not exactly/,
    ],
    [
      'another index of agent_credentials led by the key prefix',
      'CREATE INDEX agent_credentials_by_prefix ON agent_credentials (key_prefix, agent_id)',
      /^agent_credentials: index agent_credentials_by_prefix starts with key_prefix, not tenant_id$/,
    ],
    [
      'the usage log of API keys writable by the service role',
      'GRANT UPDATE ON agent_credential_uses TO agentflow_service',
      /^agent_credential_uses is append-only but agentflow_service holds UPDATE$/,
    ],
    [
      'the API key verification function callable by every role',
      'GRANT EXECUTE ON FUNCTION agentflow.authenticate_agent_key(text, text, jsonb) TO PUBLIC',
      /^agentflow\.authenticate_agent_key\(text,text,jsonb\) may be executed by every role \(PUBLIC\)$/,
    ],
    [
      'an index of a tenant table not led by tenant_id',
      'CREATE INDEX projects_by_name ON projects (name)',
      /^projects: index projects_by_name starts with name/,
    ],
    [
      'an index of a tenant table on a foreign key to another tenant table, not led by tenant_id',
      'CREATE INDEX agent_states_by_project ON agent_states (project_id)',
      /^agent_states: index agent_states_by_project starts with project_id, not tenant_id$/,
    ],
    [
      'an index on the foreign key to users with one more column',
      'CREATE INDEX memberships_by_user_role ON memberships (user_id, role)',
      /^memberships: index memberships_by_user_role starts with user_id, not tenant_id$/,
    ],
    [
      'a unique index on the foreign key to users',
      'CREATE UNIQUE INDEX memberships_one_per_user ON memberships (user_id)',
      /^memberships: index memberships_one_per_user starts with user_id, not tenant_id$/,
    ],
    [
      'an index of audit_logs not led by tenant_id',
      'CREATE INDEX audit_logs_by_time ON audit_logs (occurred_at)',
      /^audit_logs: index audit_logs_by_time starts with occurred_at, not tenant_id$/,
    ],
    [
      'the app role owning a table',
      'CREATE TABLE owned (id int); ALTER TABLE owned OWNER TO agentflow_app',
      /^agentflow_app owns .*owned/,
    ],
    [
      'the service role owning a function (it could drop it, and the trigger that runs it)',
      'ALTER FUNCTION agentflow.count_live_projects() OWNER TO agentflow_service',
      /^agentflow_service owns .*agentflow\.count_live_projects\(\)/,
    ],
    [
      'a trigger function every role may execute (attachable to a temporary table)',
      'GRANT EXECUTE ON FUNCTION agentflow.count_live_projects() TO PUBLIC',
      /^agentflow\.count_live_projects\(\) may be executed by every role \(PUBLIC\)$/,
    ],
    [
      'a SECURITY DEFINER function whose search_path does not end with pg_temp',
      'ALTER FUNCTION agentflow.audit_row() SET search_path = pg_catalog, public',
      /^agentflow\.audit_row\(\) is SECURITY DEFINER without a search_path that ends with pg_temp/,
    ],
    ['the app role with BYPASSRLS', 'ALTER ROLE agentflow_app BYPASSRLS', /^agentflow_app has BYPASSRLS$/],
    [
      'the service role as superuser',
      'ALTER ROLE agentflow_service SUPERUSER',
      /^agentflow_service is a superuser$/,
    ],
    [
      'a write grant on an append-only table',
      'GRANT UPDATE ON audit_logs TO agentflow_app',
      /^audit_logs is append-only but agentflow_app holds UPDATE$/,
    ],
    [
      'a write grant on the migration history, which every role may only read',
      'GRANT INSERT ON schema_migrations TO PUBLIC',
      /^schema_migrations: app role has INSERT on a table without forced RLS$/,
    ],
    [
      'the append-only guard trigger removed',
      'DROP TRIGGER audit_logs_append_only ON audit_logs',
      /^audit_logs has no trigger rejecting UPDATE\/DELETE$/,
    ],
  ];

  // Role attributes are cluster-wide, but the change is never committed, so no other database sees it.
  for (const [label, change, expected] of breakages) {
    it(`fails, naming the object, on ${label}`, async () => {
      const problems = await verifyAfter(h, change);
      expect(
        problems.some((p) => expected.test(p)),
        problems.join('\n'),
      ).toBe(true);
      // The change was rolled back: the database verifies clean again.
      expect((await h.store.verify()).ok).toBe(true);
    });
  }
});
