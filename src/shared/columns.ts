import { getTableName, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  type ForeignKeyBuilder,
  foreignKey,
  type PrimaryKeyBuilder,
  primaryKey,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

// Functions, not shared objects: Drizzle's column builders are mutable (`.references()` adds to them).

/** The tenant column every tenant-scoped table starts with, first in every key and index. */
export const tenantIdColumn = () => uuid('tenant_id').notNull().default(sql`agentflow.current_tenant_id()`);

/** Row id of a tenant-scoped table; the primary key is (tenant_id, id). */
export const scopedIdColumn = () => uuid('id').notNull().defaultRandom();

export const timestampColumns = () => ({
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const deletedAtColumn = () => timestamp('deleted_at', { withTimezone: true });

/** The key columns of a tenant table, as its extra-config callback and its parents see them. */
interface TenantKeyColumns {
  tenantId: AnyPgColumn;
  id: AnyPgColumn;
}

/** Name of the primary key of `table`: PostgreSQL's default, which the migrations keep. */
export const primaryKeyName = (table: string) => `${table}_pkey`;

/**
 * Name of the foreign key (tenant_id, <parent>_id) → parent (tenant_id, id) of `table`, e.g.
 * `project_files_project_fk`. Errors are mapped by it (a refused `<table>_<parent>_fk` is a missing parent, src/errors/error-mapping.ts), and the
 * migrations must create it under this name.
 */
export const tenantForeignKeyName = (table: string, parent: string) => `${table}_${parent}_fk`;

/**
 * The keys of a tenant table, for its extra-config array: the primary key (tenant_id, id), and for
 * each parent one foreign key (tenant_id, <column>) → parent (tenant_id, id) ON DELETE CASCADE, so
 * that the database refuses a link across tenants. `parents` maps the parent's name in the
 * constraint (`project`) to the referencing column and the parent table:
 *
 *   (table) => [...tenantKeys(table, { project: [table.projectId, projects] }), unique(…)…]
 */
export function tenantKeys(
  table: TenantKeyColumns,
  parents: Record<string, readonly [column: AnyPgColumn, parent: TenantKeyColumns]> = {},
): Array<PrimaryKeyBuilder | ForeignKeyBuilder> {
  const name = getTableName(table.id.table);
  return [
    primaryKey({ name: primaryKeyName(name), columns: [table.tenantId, table.id] }),
    ...Object.entries(parents).map(([parentName, [column, parent]]) =>
      foreignKey({
        name: tenantForeignKeyName(name, parentName),
        columns: [table.tenantId, column],
        foreignColumns: [parent.tenantId, parent.id],
      }).onDelete('cascade'),
    ),
  ];
}
