import { is, SQL } from 'drizzle-orm';
import { getTableConfig, type IndexedColumn, PgDialect, PgTable } from 'drizzle-orm/pg-core';
import type { Connection } from '../../src/engine/engine.ts';

/**
 * The shape of a schema as both Drizzle and PostgreSQL can describe it, in normalised text, so that
 * the TypeScript schema and a migrated database can be compared item by item.
 */
export interface TableShape {
  /** Column name → `type NOT NULL|NULL [DEFAULT] [GENERATED STORED] [IDENTITY ALWAYS|BY DEFAULT]`. */
  columns: Record<string, string>;
  /** `(a, b)` in key order, or `none`. */
  primaryKey: string;
  /** `(cols) → schema.table (cols) on delete <action>[ on update <action>]`; unnamed on purpose. */
  foreignKeys: string[];
  /** `constraint <name> (cols)[ nulls not distinct]` or `index <name> (cols)[ where <predicate>]`. */
  uniques: string[];
  /** Other named indexes: `<name> using <method> (cols[ DESC])[ where <predicate>]`. */
  indexes: string[];
  /** `<name>: CHECK (<expression>)`, the expression as PostgreSQL prints it (see canonicalChecks). */
  checks: string[];
  /**
   * `<name> <when> <events> FOR EACH <ROW|STATEMENT> EXECUTE FUNCTION <call>`, as pg_get_triggerdef
   * prints it without the table. Drizzle cannot declare triggers: its side is DECLARED_TRIGGERS.
   */
  triggers: string[];
}

/** Qualified table name (`public.projects`) → its shape. */
export type SchemaShape = Record<string, TableShape>;

/** The migrator's bookkeeping table has no Drizzle definition. */
export const UNMODELLED_TABLES = ['public.schema_migrations'];

const TYPE_ALIASES: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  serial: 'integer',
  serial4: 'integer',
  int8: 'bigint',
  bigserial: 'bigint',
  serial8: 'bigint',
  int2: 'smallint',
  smallserial: 'smallint',
  serial2: 'smallint',
  bool: 'boolean',
  float4: 'real',
  float8: 'double precision',
  decimal: 'numeric',
  varchar: 'character varying',
  char: 'character',
  bpchar: 'character',
  timestamptz: 'timestamp with time zone',
  timetz: 'time with time zone',
};

/** `timestamp (3) with time zone` → `timestamp(3) with time zone`, `varchar(20)` → `character varying(20)`. */
export function normaliseType(type: string): string {
  let text = type.trim().toLowerCase().replace(/\s+/g, ' ');
  text = text
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*,\s*/g, ',')
    .replace(/\s*\)/g, ')');
  const match = /^([a-z_][a-z0-9_]*)(.*)$/.exec(text);
  if (match) {
    const [, base, rest] = match as unknown as [string, string, string];
    const alias = TYPE_ALIASES[base];
    if (alias) text = alias + rest;
  }
  // `timestamp` alone is without time zone in both spellings.
  return text
    .replace(/^timestamp(\(\d+\))? without time zone/, 'timestamp$1')
    .replace(/^time(\(\d+\))? without time zone/, 'time$1');
}

/** A predicate or expression as both sides print it: no quotes, parentheses, casts or table prefixes. */
export function normaliseExpression(expression: string, table: string): string {
  return expression
    .replace(/"/g, '')
    .replace(new RegExp(`\\b${table}\\.`, 'g'), '')
    .replace(/::[a-z_]+( varying| precision| with(out)? time zone)?(\[\])?/gi, '')
    .replace(/[()]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function describeColumn(column: {
  type: string;
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean;
  identity: 'always' | 'by default' | null;
}): string {
  return [
    normaliseType(column.type),
    column.notNull ? 'NOT NULL' : 'NULL',
    column.hasDefault ? 'DEFAULT' : '',
    column.generated ? 'GENERATED STORED' : '',
    column.identity ? `IDENTITY ${column.identity.toUpperCase()}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

const list = (names: string[]) => `(${names.join(', ')})`;

// ---------------------------------------------------------------------------------------------------
// Drizzle

const dialect = new PgDialect();

function sqlText(fragment: SQL): string {
  return dialect.sqlToQuery(fragment).sql;
}

/**
 * The shape the Drizzle table definitions describe, with the triggers declared for them. Check
 * expressions are Drizzle's SQL text here: `canonicalChecks` has PostgreSQL print them.
 */
export function shapeOfDrizzle(
  tables: readonly PgTable[],
  triggers: Readonly<Record<string, readonly string[]>> = {},
): SchemaShape {
  const shape: SchemaShape = {};
  for (const table of tables) {
    const config = getTableConfig(table);
    const name = `${config.schema ?? 'public'}.${config.name}`;
    const columns: Record<string, string> = {};
    for (const column of config.columns) {
      columns[column.name] = describeColumn({
        type: column.getSQLType(),
        notNull: column.notNull,
        hasDefault: column.default !== undefined && !column.generated && !column.generatedIdentity,
        generated: column.generated !== undefined,
        identity: column.generatedIdentity
          ? column.generatedIdentity.type === 'always'
            ? 'always'
            : 'by default'
          : null,
      });
    }
    const primaryKeyColumns =
      config.primaryKeys[0]?.columns.map((c) => c.name) ??
      config.columns.filter((c) => c.primary).map((c) => c.name);
    const foreignKeys = config.foreignKeys.map((fk) => {
      const reference = fk.reference();
      const target = getTableConfig(reference.foreignTable);
      const onUpdate = fk.onUpdate && fk.onUpdate !== 'no action' ? ` on update ${fk.onUpdate}` : '';
      return `${list(reference.columns.map((c) => c.name))} → ${target.schema ?? 'public'}.${target.name} ${list(
        reference.foreignColumns.map((c) => c.name),
      )} on delete ${fk.onDelete ?? 'no action'}${onUpdate}`;
    });
    const indexColumn = (column: unknown): string => {
      if (is(column, SQL)) return normaliseExpression(sqlText(column), config.name);
      const indexed = column as IndexedColumn;
      return `${indexed.name}${indexed.indexConfig?.order === 'desc' ? ' DESC' : ''}`;
    };
    const uniques = [
      ...config.uniqueConstraints.map(
        (u) =>
          `constraint ${u.name} ${list(u.columns.map((c) => c.name))}${u.nullsNotDistinct ? ' nulls not distinct' : ''}`,
      ),
      ...config.columns
        .filter((c) => c.isUnique)
        .map(
          (c) =>
            `constraint ${c.uniqueName ?? `${config.name}_${c.name}_unique`} (${c.name})${
              c.uniqueType === 'not distinct' ? ' nulls not distinct' : ''
            }`,
        ),
    ];
    const indexes: string[] = [];
    for (const index of config.indexes) {
      const { name: indexName, columns: indexColumns, unique, where, method } = index.config;
      const predicate = where ? ` where ${normaliseExpression(sqlText(where), config.name)}` : '';
      const columnList = list(indexColumns.map(indexColumn));
      if (unique) uniques.push(`index ${indexName ?? '(unnamed)'} ${columnList}${predicate}`);
      else indexes.push(`${indexName ?? '(unnamed)'} using ${method ?? 'btree'} ${columnList}${predicate}`);
    }
    shape[name] = {
      columns,
      primaryKey: primaryKeyColumns.length > 0 ? list(primaryKeyColumns) : 'none',
      foreignKeys: foreignKeys.sort(),
      uniques: uniques.sort(),
      indexes: indexes.sort(),
      checks: config.checks.map((c) => `${c.name}: CHECK (${sqlText(c.value)})`).sort(),
      triggers: [...(triggers[name] ?? [])].sort(),
    };
  }
  return shape;
}

/**
 * The Drizzle shape with each CHECK expression as PostgreSQL prints it, so that it compares with the
 * database's exactly (PostgreSQL rewrites `BETWEEN`, `IN`, `LIKE` and adds casts and parentheses).
 * Each table with checks is built once more as a temporary table of the same name and columns, the
 * checks added to it and read back; the temporary tables are dropped again.
 */
export async function canonicalChecks(
  connection: Connection,
  tables: readonly PgTable[],
  shape: SchemaShape,
): Promise<SchemaShape> {
  const result: SchemaShape = { ...shape };
  for (const table of tables) {
    const config = getTableConfig(table);
    const name = `${config.schema ?? 'public'}.${config.name}`;
    const current = result[name];
    if (config.checks.length === 0 || !current) continue;
    const temp = `pg_temp.${quote(config.name)}`;
    const definitions = [
      ...config.columns.map((c) => `${quote(c.name)} ${c.getSQLType()}`),
      ...config.checks.map((c) => `CONSTRAINT ${quote(c.name)} CHECK (${sqlText(c.value)})`),
    ];
    await connection.exec(`CREATE TEMPORARY TABLE ${quote(config.name)} (${definitions.join(', ')})`);
    try {
      const rows = await connection.query<{ line: string }>(
        `SELECT conname || ': ' || pg_get_constraintdef(oid) AS line FROM pg_constraint
          WHERE conrelid = '${temp}'::regclass AND contype = 'c'`,
      );
      result[name] = { ...current, checks: rows.map((row) => row.line).sort() };
    } finally {
      await connection.exec(`DROP TABLE ${temp}`);
    }
  }
  return result;
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

const USER_TABLES = `
  SELECT c.oid, n.nspname || '.' || c.relname AS qualified, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

const FK_ACTIONS: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

/** Names of the key columns of a constraint, in key order. */
const keyColumns = (keys: string, relation: string) => `(
  SELECT string_agg(a.attname, ', ' ORDER BY key.ord)
    FROM unnest(${keys}) WITH ORDINALITY AS key(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = key.attnum)`;

/** The shape of the database `connection` is on. */
export async function shapeOfDatabase(connection: Connection): Promise<SchemaShape> {
  const tables = await connection.query<{ qualified: string; name: string }>(
    `SELECT qualified, name FROM (${USER_TABLES}) t`,
  );
  const shape: SchemaShape = {};
  const tableNames = new Map<string, string>();
  for (const table of tables) {
    if (UNMODELLED_TABLES.includes(table.qualified)) continue;
    tableNames.set(table.qualified, table.name);
    shape[table.qualified] = {
      columns: {},
      primaryKey: 'none',
      foreignKeys: [],
      uniques: [],
      indexes: [],
      checks: [],
      triggers: [],
    };
  }
  const tableOf = (qualified: string) => shape[qualified];

  const columns = await connection.query<{
    qualified: string;
    name: string;
    type: string;
    not_null: boolean;
    has_default: boolean;
    generated: boolean;
    identity: string;
  }>(
    `SELECT t.qualified, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, (a.atthasdef AND a.attgenerated = '') AS has_default,
            a.attgenerated <> '' AS generated, a.attidentity::text AS identity
       FROM (${USER_TABLES}) t JOIN pg_attribute a ON a.attrelid = t.oid
      WHERE a.attnum > 0 AND NOT a.attisdropped
      ORDER BY t.qualified, a.attnum`,
  );
  for (const column of columns) {
    const table = tableOf(column.qualified);
    if (!table) continue;
    table.columns[column.name] = describeColumn({
      type: column.type,
      notNull: column.not_null,
      hasDefault: column.has_default,
      generated: column.generated,
      identity: column.identity === 'a' ? 'always' : column.identity === 'd' ? 'by default' : null,
    });
  }

  const constraints = await connection.query<{
    qualified: string;
    kind: string;
    name: string;
    columns: string;
    target: string | null;
    target_columns: string | null;
    on_delete: string;
    on_update: string;
    nulls_not_distinct: boolean;
  }>(
    `SELECT t.qualified, k.contype::text AS kind, k.conname AS name,
            ${keyColumns('k.conkey', 'k.conrelid')} AS columns,
            (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = k.confrelid) AS target,
            ${keyColumns('k.confkey', 'k.confrelid')} AS target_columns,
            k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update,
            coalesce(i.indnullsnotdistinct, false) AS nulls_not_distinct
       FROM (${USER_TABLES}) t
       JOIN pg_constraint k ON k.conrelid = t.oid
       LEFT JOIN pg_index i ON i.indexrelid = k.conindid AND k.contype = 'u'
      WHERE k.contype IN ('p', 'f', 'u')`,
  );
  for (const constraint of constraints) {
    const table = tableOf(constraint.qualified);
    if (!table) continue;
    if (constraint.kind === 'p') table.primaryKey = `(${constraint.columns})`;
    else if (constraint.kind === 'u')
      table.uniques.push(
        `constraint ${constraint.name} (${constraint.columns})${constraint.nulls_not_distinct ? ' nulls not distinct' : ''}`,
      );
    else {
      const onUpdate = FK_ACTIONS[constraint.on_update] ?? constraint.on_update;
      table.foreignKeys.push(
        `(${constraint.columns}) → ${constraint.target} (${constraint.target_columns}) on delete ${
          FK_ACTIONS[constraint.on_delete] ?? constraint.on_delete
        }${onUpdate === 'no action' ? '' : ` on update ${onUpdate}`}`,
      );
    }
  }

  // Indexes that back no constraint (those are compared as the constraint itself).
  const indexes = await connection.query<{
    qualified: string;
    name: string;
    unique: boolean;
    method: string;
    columns: string[];
    predicate: string | null;
  }>(
    `SELECT t.qualified, ic.relname AS name, i.indisunique AS unique, am.amname AS method,
            array(SELECT pg_get_indexdef(i.indexrelid, k, true)
                         || CASE WHEN (i.indoption[k - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                    FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) AS columns,
            pg_get_expr(i.indpred, i.indrelid, true) AS predicate
       FROM (${USER_TABLES}) t
       JOIN pg_index i ON i.indrelid = t.oid
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_am am ON am.oid = ic.relam
      WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = t.oid)`,
  );
  for (const index of indexes) {
    const table = tableOf(index.qualified);
    if (!table) continue;
    const tableName = tableNames.get(index.qualified) ?? '';
    const columnList = list(
      index.columns.map((c) => {
        const desc = c.endsWith(' DESC');
        const body = desc ? c.slice(0, -' DESC'.length) : c;
        return `${/^[a-z_][a-z0-9_$]*$/.test(body) ? body : normaliseExpression(body, tableName)}${desc ? ' DESC' : ''}`;
      }),
    );
    const predicate = index.predicate ? ` where ${normaliseExpression(index.predicate, tableName)}` : '';
    if (index.unique) table.uniques.push(`index ${index.name} ${columnList}${predicate}`);
    else table.indexes.push(`${index.name} using ${index.method} ${columnList}${predicate}`);
  }

  const checks = await connection.query<{ qualified: string; line: string }>(
    `SELECT t.qualified, k.conname || ': ' || pg_get_constraintdef(k.oid) AS line
       FROM (${USER_TABLES}) t JOIN pg_constraint k ON k.conrelid = t.oid
      WHERE k.contype = 'c'`,
  );
  for (const check of checks) tableOf(check.qualified)?.checks.push(check.line);

  const triggers = await connection.query<{ qualified: string; line: string }>(
    `SELECT t.qualified,
            regexp_replace(pg_get_triggerdef(g.oid), '^CREATE (CONSTRAINT )?TRIGGER (\\S+) (.*) ON \\S+ (.*)$', '\\2 \\3 \\4') AS line
       FROM (${USER_TABLES}) t JOIN pg_trigger g ON g.tgrelid = t.oid
      WHERE NOT g.tgisinternal`,
  );
  for (const trigger of triggers) tableOf(trigger.qualified)?.triggers.push(trigger.line);

  for (const table of Object.values(shape)) {
    table.foreignKeys.sort();
    table.uniques.sort();
    table.indexes.sort();
    table.checks.sort();
    table.triggers.sort();
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------------
// Comparison

const SET_ITEMS = [
  ['foreignKeys', 'foreign key', 'the Drizzle schema'],
  ['uniques', 'unique', 'the Drizzle schema'],
  ['indexes', 'index', 'the Drizzle schema'],
  ['checks', 'check', 'the Drizzle schema'],
  ['triggers', 'trigger', 'the declared triggers'],
] as const;

/**
 * Every difference between the Drizzle schema and the database, one readable line each, e.g.
 * `public.projects.extra: column only in the database: text NULL`. Empty when they agree.
 */
export function diffSchemas(drizzle: SchemaShape, database: SchemaShape): string[] {
  const lines: string[] = [];
  const names = [...new Set([...Object.keys(drizzle), ...Object.keys(database)])].sort();
  for (const name of names) {
    const left = drizzle[name];
    const right = database[name];
    if (!left) {
      lines.push(`${name}: table only in the database`);
      continue;
    }
    if (!right) {
      lines.push(`${name}: table only in the Drizzle schema`);
      continue;
    }
    const columns = [...new Set([...Object.keys(left.columns), ...Object.keys(right.columns)])];
    for (const column of columns) {
      const ours = left.columns[column];
      const theirs = right.columns[column];
      if (ours === undefined) lines.push(`${name}.${column}: column only in the database: ${theirs}`);
      else if (theirs === undefined)
        lines.push(`${name}.${column}: column only in the Drizzle schema: ${ours}`);
      else if (ours !== theirs)
        lines.push(`${name}.${column}: column differs: Drizzle ${ours}, database ${theirs}`);
    }
    if (left.primaryKey !== right.primaryKey)
      lines.push(`${name}: primary key differs: Drizzle ${left.primaryKey}, database ${right.primaryKey}`);
    for (const [key, label, side] of SET_ITEMS) {
      for (const item of left[key])
        if (!right[key].includes(item)) lines.push(`${name}: ${label} only in ${side}: ${item}`);
      for (const item of right[key])
        if (!left[key].includes(item)) lines.push(`${name}: ${label} only in the database: ${item}`);
    }
  }
  return lines;
}

/** The assertion message: every difference, one per line. */
export function formatSchemaDiff(lines: readonly string[]): string {
  if (lines.length === 0) return 'the Drizzle schema matches the database';
  return `the Drizzle schema (src/schema.ts) and the migrated database differ in ${lines.length} place(s):\n${lines
    .map((line) => `  - ${line}`)
    .join('\n')}`;
}

/** The tables exported by a module such as src/schema.ts. */
export function tablesOf(module: Record<string, unknown>): PgTable[] {
  return Object.values(module).filter((value): value is PgTable => is(value, PgTable));
}
