import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  type PgTable,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { beforeAll, expect, it } from 'vitest';
import * as schema from '../../src/schema.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { DECLARED_TRIGGERS } from './declared-triggers.ts';
import {
  canonicalChecks,
  diffSchemas,
  formatSchemaDiff,
  type SchemaShape,
  shapeOfDatabase,
  shapeOfDrizzle,
  tablesOf,
} from './schema-diff.ts';

/** Thrown to roll back a transaction whose only purpose was to look at an altered schema. */
class RollBack extends Error {}

// A deliberately altered copy of `memberships`, and a table the migrations never created.
const alteredMemberships = pgTable(
  'memberships',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => schema.tenants.id, { onDelete: 'restrict' }),
    id: uuid('id').notNull().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => schema.users.id, { onDelete: 'cascade' }),
    role: varchar('role', { length: 20 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    note: text('note'),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.tenantId] }),
    unique('memberships_user_key').on(t.userId, t.tenantId),
    index('memberships_role_idx').on(t.role.desc()),
    check('memberships_role_check', sql`${t.role} = 'x'`),
  ],
);
const ghosts = pgTable('ghosts', { id: integer('id').primaryKey() });

describeEachEngine('the Drizzle schema never drifts from the migrations', (h) => {
  const drizzleTables = tablesOf(schema);
  let drizzle: SchemaShape;
  let database: SchemaShape;
  const drizzleShape = (tables: PgTable[]) =>
    h.asOwner((c) => canonicalChecks(c, tables, shapeOfDrizzle(tables, DECLARED_TRIGGERS)));

  beforeAll(async () => {
    drizzle = await drizzleShape(drizzleTables);
    database = await h.asOwner(shapeOfDatabase);
  });

  it('reads a meaningful shape from both sides', () => {
    expect(drizzleTables.length).toBeGreaterThanOrEqual(7);
    expect(database['public.projects']?.primaryKey).toBe('(tenant_id, id)');
    expect(database['public.project_files']?.columns.content_hash).toBe('text NOT NULL GENERATED STORED');
    expect(database['public.audit_logs']?.columns.id).toBe('bigint NOT NULL IDENTITY ALWAYS');
    expect(database['public.audit_logs']?.columns.tenant_id).toBe('uuid NOT NULL');
    expect(database['public.audit_logs']?.primaryKey).toBe('(tenant_id, occurred_at, id)');
    expect(database['public.users']?.uniques).toContain(
      'index users_github_id_live_key (github_id) where github_id is not null and deleted_at is null',
    );
    expect(database['public.project_files']?.foreignKeys).toEqual([
      '(tenant_id, project_id) → public.projects (tenant_id, id) on delete cascade',
    ]);
    expect(database['public.audit_logs']?.indexes).toEqual([
      'audit_logs_tenant_row_idx using btree (tenant_id, table_name, row_id)',
    ]);
    expect(database['public.memberships']?.indexes).toEqual(['memberships_user_idx using btree (user_id)']);
    expect(database['public.tenants']?.checks).toContain(
      'tenants_name_check: CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200)))',
    );
    expect(drizzle['public.tenants']?.checks).toContain(
      "tenants_plan_check: CHECK ((plan = ANY (ARRAY['free'::text, 'starter'::text, 'professional'::text, 'enterprise'::text])))",
    );
    expect(database['public.audit_logs']?.triggers).toContain(
      'audit_logs_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
    );
    for (const [name, table] of Object.entries(database))
      expect(table.checks.length + table.triggers.length, name).toBeGreaterThan(0);
    expect(Object.keys(database)).not.toContain('public.schema_migrations');
  });

  it('matches the migrated database: tables, columns, keys, foreign keys, unique constraints, indexes, checks and triggers', () => {
    const differences = diffSchemas(drizzle, database);
    expect(differences, formatSchemaDiff(differences)).toEqual([]);
  });

  it('reports a database changed without the Drizzle schema', async () => {
    let differences: string[] = [];
    const altered = h.asOwner(async (connection) => {
      await connection.exec(`
        ALTER TABLE projects ADD COLUMN extra text;
        ALTER TABLE tenants ALTER COLUMN name DROP NOT NULL;
        ALTER TABLE users ALTER COLUMN github_id TYPE integer;
        ALTER TABLE agent_states ALTER COLUMN version DROP DEFAULT;
        DROP INDEX audit_logs_tenant_row_idx;
        CREATE INDEX audit_logs_action_idx ON audit_logs (action DESC);
        ALTER TABLE agent_states DROP CONSTRAINT agent_states_project_fk;
        ALTER TABLE agent_states ADD CONSTRAINT agent_states_project_fk FOREIGN KEY (tenant_id, project_id)
          REFERENCES projects (tenant_id, id) ON DELETE RESTRICT;
        DROP INDEX projects_slug_live_key;
        CREATE UNIQUE INDEX projects_slug_live_key ON projects (tenant_id, slug) WHERE status <> 'deleted';
        CREATE TABLE stray (id int PRIMARY KEY);
        ALTER TABLE projects DROP CONSTRAINT projects_description_check;
        ALTER TABLE users DROP CONSTRAINT users_name_check;
        ALTER TABLE users ADD CONSTRAINT users_name_check CHECK (char_length(name) BETWEEN 1 AND 100);
        ALTER TABLE tenants ADD CONSTRAINT tenants_extra_check CHECK (name <> 'x');
        DROP TRIGGER memberships_audit ON memberships;
        CREATE TRIGGER tenants_stray BEFORE DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at();
      `);
      differences = diffSchemas(drizzle, await shapeOfDatabase(connection));
      throw new RollBack();
    });
    await expect(altered).rejects.toBeInstanceOf(RollBack);
    expect([...differences].sort(), formatSchemaDiff(differences)).toEqual(
      [
        'public.agent_states.version: column differs: Drizzle integer NOT NULL DEFAULT, database integer NOT NULL',
        'public.agent_states: foreign key only in the Drizzle schema: (tenant_id, project_id) → public.projects (tenant_id, id) on delete cascade',
        'public.agent_states: foreign key only in the database: (tenant_id, project_id) → public.projects (tenant_id, id) on delete restrict',
        'public.audit_logs: index only in the Drizzle schema: audit_logs_tenant_row_idx using btree (tenant_id, table_name, row_id)',
        'public.audit_logs: index only in the database: audit_logs_action_idx using btree (action DESC)',
        'public.projects.extra: column only in the database: text NULL',
        'public.projects: unique only in the Drizzle schema: index projects_slug_live_key (tenant_id, slug) where deleted_at is null',
        "public.projects: unique only in the database: index projects_slug_live_key (tenant_id, slug) where status <> 'deleted'",
        'public.stray: table only in the database',
        'public.tenants.name: column differs: Drizzle text NOT NULL, database text NULL',
        'public.users.github_id: column differs: Drizzle bigint NULL, database integer NULL',
        'public.projects: check only in the Drizzle schema: projects_description_check: CHECK ((char_length(description) <= 10000))',
        'public.users: check only in the Drizzle schema: users_name_check: CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200)))',
        'public.users: check only in the database: users_name_check: CHECK (((char_length(name) >= 1) AND (char_length(name) <= 100)))',
        "public.tenants: check only in the database: tenants_extra_check: CHECK ((name <> 'x'::text))",
        "public.memberships: trigger only in the declared triggers: memberships_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
        'public.tenants: trigger only in the database: tenants_stray BEFORE DELETE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
      ].sort(),
    );
    // The transaction rolled back: the real database still matches.
    expect(diffSchemas(drizzle, await h.asOwner(shapeOfDatabase))).toEqual([]);
  });

  it('reports a Drizzle schema changed without a migration', async () => {
    const tables = [
      ...drizzleTables.filter((t) => t !== schema.memberships && t !== schema.auditLogs),
      alteredMemberships,
      ghosts,
    ];
    const differences = diffSchemas(await drizzleShape(tables), database);
    expect([...differences].sort(), formatSchemaDiff(differences)).toEqual(
      [
        'public.audit_logs: table only in the database',
        'public.ghosts: table only in the Drizzle schema',
        'public.memberships.tenant_id: column differs: Drizzle uuid NOT NULL, database uuid NOT NULL DEFAULT',
        'public.memberships.role: column differs: Drizzle character varying(20) NOT NULL, database text NOT NULL',
        'public.memberships.note: column only in the Drizzle schema: text NULL',
        'public.memberships.updated_at: column only in the database: timestamp with time zone NOT NULL DEFAULT',
        'public.memberships: primary key differs: Drizzle (id, tenant_id), database (tenant_id, id)',
        'public.memberships: foreign key only in the Drizzle schema: (tenant_id) → public.tenants (id) on delete restrict',
        'public.memberships: foreign key only in the database: (tenant_id) → public.tenants (id) on delete cascade',
        'public.memberships: unique only in the Drizzle schema: constraint memberships_user_key (user_id, tenant_id)',
        'public.memberships: unique only in the database: constraint memberships_user_key (tenant_id, user_id)',
        'public.memberships: index only in the Drizzle schema: memberships_role_idx using btree (role DESC)',
        'public.memberships: index only in the database: memberships_user_idx using btree (user_id)',
        "public.memberships: check only in the Drizzle schema: memberships_role_check: CHECK (((role)::text = 'x'::text))",
        "public.memberships: check only in the database: memberships_role_check: CHECK ((role = ANY (ARRAY['owner'::text, 'admin'::text, 'manager'::text, 'member'::text, 'service'::text])))",
      ].sort(),
    );
    expect(formatSchemaDiff(differences)).toMatch(
      /differ in 15 place\(s\):\n {2}- public\.audit_logs: table only/,
    );
  });

  it('normalises what only the spelling differs in, and nothing more', () => {
    const spelled = pgTable(
      'spelled',
      {
        a: timestamp('a', { withTimezone: true, precision: 3 }),
        b: varchar('b', { length: 5 }),
      },
      (t) => [uniqueIndex('spelled_b_key').on(t.b).where(sql`"spelled"."a" IS NOT NULL`)],
    );
    const shape = shapeOfDrizzle([spelled])['public.spelled']!;
    expect(shape.columns).toEqual({ a: 'timestamp(3) with time zone NULL', b: 'character varying(5) NULL' });
    expect(shape.uniques).toEqual(['index spelled_b_key (b) where a is not null']);
  });
});
