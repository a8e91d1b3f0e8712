import { sql } from 'drizzle-orm';
import {
  index,
  integer,
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
import {
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
  ],
);
const ghosts = pgTable('ghosts', { id: integer('id').primaryKey() });

describeEachEngine('the Drizzle schema never drifts from the migrations', (h) => {
  const drizzleTables = tablesOf(schema);
  let drizzle: SchemaShape;
  let database: SchemaShape;

  beforeAll(async () => {
    drizzle = shapeOfDrizzle(drizzleTables);
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
    expect(Object.keys(database)).not.toContain('public.schema_migrations');
  });

  it('matches the migrated database: tables, columns, keys, foreign keys, unique constraints and indexes', () => {
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
      ].sort(),
    );
    // The transaction rolled back: the real database still matches.
    expect(diffSchemas(drizzle, await h.asOwner(shapeOfDatabase))).toEqual([]);
  });

  it('reports a Drizzle schema changed without a migration', () => {
    const tables = [
      ...drizzleTables.filter((t) => t !== schema.memberships && t !== schema.auditLogs),
      alteredMemberships,
      ghosts,
    ];
    const differences = diffSchemas(shapeOfDrizzle(tables), database);
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
      ].sort(),
    );
    expect(formatSchemaDiff(differences)).toMatch(
      /differ in 12 place\(s\):\n {2}- public\.audit_logs: table only/,
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
