import type { Connection } from '../engine/engine.ts';
import type { MigrationStatus } from '../migrations/migrator.ts';
import { APP_ROLE, SERVICE_ROLE } from '../store/roles.ts';

/** Tables whose rows may be added but never changed or removed by any application role. */
export const APPEND_ONLY_TABLES = [
  'audit_logs',
  'events',
  'event_mentions',
  'agent_credential_uses',
  'task_checkpoints',
] as const;

/**
 * The migration history names migrations and nothing of any tenant; every role may read it
 * (migration 1), because opening the store reads it as the login role, before any role switch.
 */
const READABLE_BY_EVERY_ROLE = new Set(['schema_migrations']);

export interface VerifyCheck {
  name: string;
  problems: string[];
}

export interface VerifyReport {
  ok: boolean;
  checks: VerifyCheck[];
}

interface TableRow {
  table: string;
  rls: boolean;
  forced: boolean;
  tenant_column: string | null;
  tenant_not_null: boolean;
  app_privileges: string[];
}

interface PolicyRow {
  table: string;
  name: string;
  command: 'r' | 'a' | 'w' | 'd' | '*';
  applies_to_app: boolean;
  using_expr: string | null;
  check_expr: string | null;
}

const COMMANDS = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' } as const;
type Command = keyof typeof COMMANDS;
// The tenant read once per statement, as pg_get_expr prints `(SELECT agentflow.current_tenant_id())`
// (PostgreSQL and PGlite alike); a bare call would be evaluated once per row.
const TENANT_SUBSELECT = '( SELECT agentflow.current_tenant_id() AS current_tenant_id)';
// Any other way of reading the tenant setting.
const TENANT_READ = /current_tenant_id\(|current_setting\(/;

// Every ordinary or partitioned table of the public schema (partitions inherit the parent's checks).
const TABLES_SQL = `
SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
       tc.attname AS tenant_column, coalesce(tc.attnotnull, false) AS tenant_not_null,
       -- A grant on some columns (tenants: UPDATE (name, settings)) opens the command as much as a table grant.
       ARRAY(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) AS p
              WHERE CASE WHEN p IN ('SELECT', 'INSERT', 'UPDATE') THEN has_any_column_privilege($1, c.oid, p)
                         ELSE has_table_privilege($1, c.oid, p) END) AS app_privileges
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute tc ON tc.attrelid = c.oid AND NOT tc.attisdropped
       AND tc.attname = CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname`;

const POLICIES_SQL = `
SELECT c.relname AS table, p.polname AS name, p.polcmd AS command,
       -- A policy for a role the app role belongs to (0 is PUBLIC) applies to it as well.
       EXISTS (SELECT 1 FROM unnest(p.polroles) AS r WHERE r = 0 OR pg_has_role($1, r, 'MEMBER')) AS applies_to_app,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr, pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
  FROM pg_policy p
  JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND p.polpermissive`;

// For each index, the table a foreign key whose columns it indexes exactly (a plain, non-unique index
// on those columns alone, no expression or predicate) references, if any.
const INDEXES_SQL = `
SELECT c.relname AS table, i.relname AS index, a.attname AS first_column, am.amname AS method,
       (SELECT min(r.relname) FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
         WHERE k.conrelid = x.indrelid AND k.contype = 'f'
           -- indkey counts from 0, conkey from 1: compared as lists.
           AND k.conkey = string_to_array(x.indkey::text, ' ')::int2[]
           AND NOT x.indisunique AND x.indexprs IS NULL AND x.indpred IS NULL) AS foreign_key_target
  FROM pg_index x
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_am am ON am.oid = i.relam
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
 WHERE n.nspname = 'public'`;

/**
 * Functions of schema agentflow that every role may call. The set-up statement of a unit of work
 * calls require_usable_tenant and require_usable_actor before the role switch; the other two read
 * nothing.
 */
const CALLABLE_BY_EVERY_ROLE = new Set([
  'agentflow.current_tenant_id()',
  'agentflow.sha256_hex(text)',
  'agentflow.require_usable_tenant(uuid)',
  'agentflow.require_usable_actor(uuid,text,uuid)',
]);

/**
 * Indexes of tenant tables not led by tenant_id that a lookup made before any tenant is known needs
 * (table.index): an API key is found by its public prefix alone, by the SECURITY DEFINER
 * agentflow.authenticate_agent_key only (migration 8).
 */
const TENANTLESS_LOOKUP_INDEXES = new Set(['agent_credentials.agent_credentials_prefix_key']);

// Who may run each function of the schema, and the search_path a SECURITY DEFINER one pins.
const FUNCTIONS_SQL = `
SELECT p.oid::regprocedure::text AS function, p.prosecdef AS security_definer,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       (SELECT substring(c FROM length('search_path=') + 1) FROM unnest(p.proconfig) AS c
         WHERE c LIKE 'search_path=%') AS search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'agentflow'
 ORDER BY 1`;

const ROLES_SQL = `
SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
       has_database_privilege(r.oid, current_database(), 'TEMPORARY') AS temporary,
       -- Tables and functions: the owner of a function may drop it, and with it a trigger it runs.
       ARRAY(SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname IN ('public', 'agentflow') AND pg_has_role(r.oid, c.relowner, 'USAGE')
             UNION ALL
             SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname IN ('public', 'agentflow') AND pg_has_role(r.oid, p.proowner, 'USAGE')) AS owns,
       ARRAY(SELECT o.rolname::text FROM pg_roles o
              WHERE o.oid <> r.oid AND (o.rolsuper OR o.rolbypassrls) AND pg_has_role(r.oid, o.oid, 'MEMBER')) AS powerful_memberships
  FROM pg_roles r
 WHERE r.rolname = ANY ($1::text[])`;

const APPEND_ONLY_TRIGGERS_SQL = `
SELECT c.relname AS table,
       -- tgtype bits: 1 = FOR EACH ROW, 8 = DELETE, 16 = UPDATE; a TRUNCATE guard alone is not enough.
       count(*) FILTER (WHERE p.proname IN ('reject_mutation', 'refuse_event_change') AND t.tgtype & 25 = 25) AS guards
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
  LEFT JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE n.nspname = 'public' AND c.relname = ANY ($1::text[])
 GROUP BY c.relname`;

function commandsOf(policy: PolicyRow): Command[] {
  return policy.command === '*' ? ['r', 'a', 'w', 'd'] : [policy.command];
}

/** The only expression a tenant policy may have: the tenant column equals the statement's tenant. */
function tenantPredicate(tenantColumn: string): string {
  return `(${tenantColumn} = ${TENANT_SUBSELECT})`;
}

/**
 * A policy is tenant-bound when every expression it has is exactly the tenant predicate. Anything
 * more (`… OR true`, an extra condition) is ORed with the other permissive policies, so matching
 * the text exactly is the only way to know the policy admits no other tenant's rows.
 */
function isTenantBound(policy: PolicyRow, tenantColumn: string): boolean {
  const expressions = [policy.using_expr, policy.check_expr].filter((e): e is string => e !== null);
  const predicate = tenantPredicate(tenantColumn);
  return expressions.length > 0 && expressions.every((e) => e.replace(/\s+/g, ' ') === predicate);
}

/** True when an expression reads the tenant other than through the once-per-statement sub-select. */
function readsTenantPerRow(policy: PolicyRow): boolean {
  return [policy.using_expr, policy.check_expr].some(
    (e) => e !== null && TENANT_READ.test(e.replace(/\s+/g, ' ').replaceAll(TENANT_SUBSELECT, '')),
  );
}

function checkTables(tables: TableRow[], policies: PolicyRow[]): VerifyCheck {
  const problems: string[] = [];
  const appendOnly = new Set<string>(APPEND_ONLY_TABLES);
  for (const table of tables) {
    const tenantColumn = table.tenant_column;
    if (tenantColumn === null) {
      // A global table (users) is either behind RLS or closed to the app role.
      const privileges = READABLE_BY_EVERY_ROLE.has(table.table)
        ? table.app_privileges.filter((privilege) => privilege !== 'SELECT')
        : table.app_privileges;
      if (!(table.rls && table.forced) && privileges.length > 0) {
        problems.push(`${table.table}: app role has ${privileges.join(', ')} on a table without forced RLS`);
      }
      continue;
    }
    if (!table.rls) problems.push(`${table.table}: row-level security is not enabled`);
    if (!table.forced)
      problems.push(`${table.table}: row-level security is not forced (the owner would bypass it)`);
    const own = policies.filter((p) => p.table === table.table && p.applies_to_app);
    const needed: Command[] = appendOnly.has(table.table) ? ['r'] : ['r', 'a', 'w', 'd'];
    for (const command of needed) {
      const bound = own.some((p) => commandsOf(p).includes(command) && isTenantBound(p, tenantColumn));
      if (!bound)
        problems.push(`${table.table}: no tenant-bound ${COMMANDS[command]} policy for ${APP_ROLE}`);
    }
    for (const policy of own) {
      if (isTenantBound(policy, tenantColumn)) continue;
      // Any other policy is harmless only for commands the app role holds no privilege for.
      const opened = commandsOf(policy).filter((c) => table.app_privileges.includes(COMMANDS[c]));
      if (opened.length === 0) continue;
      if (readsTenantPerRow(policy)) {
        problems.push(
          `${table.table}: policy ${policy.name} is not exactly ${tenantPredicate(tenantColumn)}: it reads the tenant other than once per statement`,
        );
      } else {
        problems.push(
          `${table.table}: policy ${policy.name} lets ${APP_ROLE} ${opened.map((c) => COMMANDS[c]).join('/')} rows of any tenant`,
        );
      }
    }
  }
  return { name: 'row-level security on tenant tables', problems };
}

/** Reads the live catalog and reports every way the database falls short of the isolation invariants. */
export async function verifyDatabase(connection: Connection, status: MigrationStatus): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const versionProblems: string[] = [];
  if (status.current !== status.latest) {
    versionProblems.push(`schema is at version ${status.current}, the code expects ${status.latest}`);
  }
  for (const modified of status.modified) {
    versionProblems.push(`migration ${modified.version}_${modified.name} was edited after it was applied`);
  }
  for (const modified of status.modifiedDown) {
    versionProblems.push(
      `the down step of migration ${modified.version}_${modified.name} was edited after it was applied`,
    );
  }
  checks.push({ name: 'schema version and migration checksums', problems: versionProblems });

  const tables = await connection.query<TableRow>(TABLES_SQL, [APP_ROLE]);
  const policies = await connection.query<PolicyRow>(POLICIES_SQL, [APP_ROLE]);
  checks.push(checkTables(tables, policies));

  const indexes = await connection.query<{
    table: string;
    index: string;
    first_column: string | null;
    method: string;
    foreign_key_target: string | null;
  }>(INDEXES_SQL);
  const scoped = new Set(
    tables.filter((t) => t.tenant_column === 'tenant_id' && t.tenant_not_null).map((t) => t.table),
  );
  const globalTables = new Set(tables.filter((t) => t.tenant_column === null).map((t) => t.table));
  checks.push({
    name: 'tenant_id leads every index of tenant tables',
    // Three exceptions (the third: TENANTLESS_LOOKUP_INDEXES). The index of a foreign key to a global table (memberships.user_id → users), which
    // a delete of the global row searches with no tenant to lead with: Citus keeps such an index per
    // shard, beside a reference table, so the rule's purpose holds. And a GIN index (array members:
    // mentions, capabilities), which cannot hold a uuid column without the btree_gin extension;
    // Citus builds it per shard too, and row-level security filters what it finds.
    problems: indexes
      .filter(
        (i) =>
          scoped.has(i.table) &&
          i.first_column !== 'tenant_id' &&
          i.method !== 'gin' &&
          !TENANTLESS_LOOKUP_INDEXES.has(`${i.table}.${i.index}`) &&
          !(i.foreign_key_target !== null && globalTables.has(i.foreign_key_target)),
      )
      .map(
        (i) => `${i.table}: index ${i.index} starts with ${i.first_column ?? 'an expression'}, not tenant_id`,
      ),
  });

  const roles = await connection.query<{
    role: string;
    superuser: boolean;
    bypassrls: boolean;
    temporary: boolean;
    owns: string[];
    powerful_memberships: string[];
  }>(ROLES_SQL, [[APP_ROLE, SERVICE_ROLE]]);
  const roleProblems: string[] = [];
  for (const name of [APP_ROLE, SERVICE_ROLE]) {
    const role = roles.find((r) => r.role === name);
    if (!role) {
      roleProblems.push(`role ${name} does not exist`);
      continue;
    }
    if (role.superuser) roleProblems.push(`${name} is a superuser`);
    if (role.temporary)
      roleProblems.push(
        `${name} may create temporary tables in this database, which could stand in for library tables (REVOKE TEMPORARY ON DATABASE … FROM PUBLIC, as migration 5 does)`,
      );
    if (role.bypassrls) roleProblems.push(`${name} has BYPASSRLS`);
    if (role.owns.length > 0)
      roleProblems.push(`${name} owns (or inherits ownership of) ${role.owns.join(', ')}`);
    if (role.powerful_memberships.length > 0) {
      roleProblems.push(
        `${name} is a member of ${role.powerful_memberships.join(', ')} (superuser or BYPASSRLS)`,
      );
    }
  }
  checks.push({ name: 'application roles are unprivileged', problems: roleProblems });

  const functions = await connection.query<{
    function: string;
    security_definer: boolean;
    public_execute: boolean;
    search_path: string | null;
  }>(FUNCTIONS_SQL);
  const functionProblems: string[] = [];
  for (const fn of functions) {
    // Any role owns a temporary table, so a trigger function PUBLIC may execute can be attached to one.
    if (fn.public_execute && !CALLABLE_BY_EVERY_ROLE.has(fn.function))
      functionProblems.push(`${fn.function} may be executed by every role (PUBLIC)`);
    // A pinned path without pg_temp searches temporary tables first.
    if (fn.security_definer && !/(^|,\s*)pg_temp$/.test(fn.search_path ?? ''))
      functionProblems.push(
        `${fn.function} is SECURITY DEFINER without a search_path that ends with pg_temp (${fn.search_path ?? 'none'})`,
      );
  }
  checks.push({ name: 'functions of schema agentflow', problems: functionProblems });

  const appendOnlyProblems: string[] = [];
  const writeGrants = await connection.query<{ table: string; role: string; privilege: string }>(
    `SELECT t AS table, r AS role, p AS privilege
       FROM unnest($1::text[]) AS t, unnest($2::text[]) AS r, unnest(ARRAY['UPDATE','DELETE','TRUNCATE']) AS p
      WHERE to_regclass(t) IS NOT NULL AND has_table_privilege(r, t, p)`,
    [[...APPEND_ONLY_TABLES], [APP_ROLE, SERVICE_ROLE]],
  );
  for (const grant of writeGrants) {
    appendOnlyProblems.push(`${grant.table} is append-only but ${grant.role} holds ${grant.privilege}`);
  }
  const guards = await connection.query<{ table: string; guards: string }>(APPEND_ONLY_TRIGGERS_SQL, [
    [...APPEND_ONLY_TABLES],
  ]);
  for (const table of APPEND_ONLY_TABLES) {
    const guard = guards.find((g) => g.table === table);
    if (!guard) appendOnlyProblems.push(`${table} is missing`);
    else if (Number(guard.guards) === 0)
      appendOnlyProblems.push(`${table} has no trigger rejecting UPDATE/DELETE`);
  }
  checks.push({ name: 'append-only tables', problems: appendOnlyProblems });

  return { ok: checks.every((check) => check.problems.length === 0), checks };
}
