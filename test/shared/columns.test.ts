import { getTableName } from 'drizzle-orm';
import { getTableConfig, pgTable, uuid } from 'drizzle-orm/pg-core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/schema.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys } from '../../src/shared/columns.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { tablesOf } from '../migrations/schema-diff.ts';

/** Table → names of its composite primary key and composite foreign keys (what tenantKeys declares). */
type KeyNames = Record<string, string[]>;

function drizzleKeyNames(): KeyNames {
  const names: KeyNames = {};
  for (const table of tablesOf(schema)) {
    const config = getTableConfig(table);
    names[getTableName(table)] = [
      ...config.primaryKeys.map((key) => key.getName()),
      ...config.foreignKeys.filter((key) => key.reference().columns.length > 1).map((key) => key.getName()),
    ].sort();
  }
  return names;
}

describe('tenantKeys', () => {
  it('declares (tenant_id, id) and one tenant-carrying foreign key per parent, under the names the migrations use', () => {
    const parent = pgTable('parents', { tenantId: tenantIdColumn(), id: scopedIdColumn() }, (t) => [
      ...tenantKeys(t),
    ]);
    const child = pgTable(
      'children',
      { tenantId: tenantIdColumn(), id: scopedIdColumn(), parentId: uuid('parent_id').notNull() },
      (t) => [...tenantKeys(t, { parent: [t.parentId, parent] })],
    );
    const config = getTableConfig(child);
    expect(config.primaryKeys.map((key) => [key.getName(), key.columns.map((c) => c.name)])).toEqual([
      ['children_pkey', ['tenant_id', 'id']],
    ]);
    expect(
      config.foreignKeys.map((key) => {
        const reference = key.reference();
        return [
          key.getName(),
          reference.columns.map((c) => c.name),
          getTableName(reference.foreignTable),
          reference.foreignColumns.map((c) => c.name),
          key.onDelete,
        ];
      }),
    ).toEqual([
      ['children_parent_fk', ['tenant_id', 'parent_id'], 'parents', ['tenant_id', 'id'], 'cascade'],
    ]);
  });
});

describeEachEngine('the key constraint names of the Drizzle schema', (h) => {
  let database: KeyNames;

  beforeAll(async () => {
    const rows = await h.asOwner((c) =>
      c.query<{ table: string; name: string }>(
        `SELECT cl.relname AS table, co.conname AS name
           FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
          WHERE co.connamespace = 'public'::regnamespace AND co.contype IN ('p', 'f')
            AND array_length(co.conkey, 1) > 1`,
      ),
    );
    database = {};
    for (const row of rows) database[row.table] = [...(database[row.table] ?? []), row.name];
    for (const names of Object.values(database)) names.sort();
  });

  it('are the names the migrations gave them, which errors are mapped by', () => {
    const drizzle = drizzleKeyNames();
    expect(drizzle.project_files).toEqual(['project_files_pkey', 'project_files_project_fk']);
    for (const [table, names] of Object.entries(drizzle)) expect(names, table).toEqual(database[table] ?? []);
    expect(Object.keys(database).filter((table) => !(table in drizzle))).toEqual([]);
  });
});
