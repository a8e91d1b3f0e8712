import { fillPlaceholders, type Placeholder, type Query, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Connection, Database } from '../engine/engine.ts';

type Placeholders<Name extends string> = { readonly [Key in Name]: Placeholder<Key> };

/** A Drizzle query builder (select, insert, update, delete) before it runs. */
interface BuiltStatement<Row> extends PromiseLike<Row[]> {
  toSQL(): Query;
}

/** Where a compiled statement runs: a unit of work (`tx`) or a connection. */
export type StatementRunner = Pick<Connection, 'db' | 'queryArrays'>;

/**
 * A hot-path statement whose SQL Drizzle builds once, on first use, instead of on every call:
 * building and decoding through the query builder costs the client more than a point read's
 * round trip. Values travel as `sql.placeholder`s, so the text, and with it the server-side
 * prepared statement, never changes. It runs on the connection directly, not through Drizzle's
 * session, whose per-call wrappers cost a point read a fifth of its time.
 *
 * `columns` must be the statement's result columns in the order the builder selects them: pass
 * the record given to `select(…)` / `returning(…)`, or `getTableColumns(table)` for `select()` /
 * `returning()`; rows are decoded as Drizzle decodes them. Drizzle encodes a placeholder's value
 * for its column inside `values(…)`; elsewhere a value that needs encoding (JSON, dates) is
 * written `sql.param(values.x, column)`. Statements whose shape depends on the input (optional
 * columns, optional filters) keep the query builder.
 */
export class CompiledStatement<Name extends string, Row> {
  private query: Query | undefined;
  private readonly placeholders: Placeholders<Name>;
  private readonly decodeRows: (rows: unknown[][]) => Row[];

  constructor(
    columns: Record<string, PgColumn>,
    names: readonly Name[],
    private readonly build: (db: Database, values: Placeholders<Name>) => BuiltStatement<Row>,
  ) {
    this.placeholders = Object.fromEntries(
      names.map((name) => [name, sql.placeholder(name)]),
    ) as Placeholders<Name>;
    const keys = Object.keys(columns);
    const decoders = Object.values(columns);
    this.decodeRows = (rows) => {
      // Catches a `columns` record that is not what the statement selects (an order mismatch of
      // equally many columns is for the statement's tests to catch).
      if (rows[0] && rows[0].length !== keys.length)
        throw new Error(
          `compiled statement returns ${rows[0].length} columns but declares ${keys.length}: ${keys.join(', ')}`,
        );
      return rows.map((row) => {
        const decoded: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) {
          const value = row[i];
          decoded[keys[i]!] =
            value === null || value === undefined ? null : decoders[i]!.mapFromDriverValue(value);
        }
        return decoded as Row;
      });
    };
  }

  /** The SQL and its parameter slots; the dialect is the same on every engine, so any `db` builds it. */
  toSQL(db: Database): Query {
    this.query ??= this.build(db, this.placeholders).toSQL();
    return this.query;
  }

  /** Runs the statement in the unit of work `tx` with a value for each placeholder. */
  async run(tx: StatementRunner, values: Readonly<Record<Name, unknown>>): Promise<Row[]> {
    const query = this.query ?? this.toSQL(tx.db);
    return this.decodeRows(await tx.queryArrays(query.sql, fillPlaceholders(query.params, values)));
  }
}

/** See {@link CompiledStatement}. */
export function compileStatement<Name extends string, Row>(
  columns: Record<string, PgColumn>,
  names: readonly Name[],
  build: (db: Database, values: Placeholders<Name>) => BuiltStatement<Row>,
): CompiledStatement<Name, Row> {
  return new CompiledStatement(columns, names, build);
}
