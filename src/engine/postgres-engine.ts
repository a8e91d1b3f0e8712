import type { Logger } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { drizzle, PostgresJsDatabase, PostgresJsSession } from 'drizzle-orm/postgres-js';
import type Postgres from 'postgres';
import { toDatabaseError } from '../errors/index.ts';
import { redactUrl } from './database-url.ts';
import type { Connection, Engine, QueryListener, SqlStatement, TransactionOptions } from './engine.ts';
import { postgres } from './postgres-driver.ts';
import { singleStatementClient } from './single-statement.ts';

export interface PostgresEngineOptions {
  url: string;
  /** Pool size (default 10). */
  max?: number;
  /** Seconds an idle connection is kept (default 30). */
  idleTimeout?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
  /** Server-side prepared statements; turn off behind PgBouncer older than 1.21 in transaction mode. */
  prepare?: boolean;
  /** Milliseconds a statement may run before the server cancels it (0 = no limit). */
  statementTimeout?: number;
  onQuery?: QueryListener;
}

type Sql = Postgres.Sql;
type ReservedSql = Postgres.ReservedSql;

/**
 * Drizzle sends a statement unnamed unless it was `.prepare()`d by name, which makes postgres.js
 * ask the server for parameter types first and re-plan every time. Naming every statement lets
 * postgres.js keep one server-side prepared statement per query text and connection.
 */
class PreparingSession extends PostgresJsSession<ReservedSql, Record<string, never>, never> {
  override prepareQuery: PostgresJsSession<ReservedSql, Record<string, never>, never>['prepareQuery'] = (
    query,
    fields,
    name,
    ...rest
  ) => super.prepareQuery(query, fields, name ?? '', ...rest);
}

/** The server engine: a postgres.js pool, one reserved connection per transaction. */
export async function openPostgresEngine(options: PostgresEngineOptions): Promise<Engine> {
  const prepare = options.prepare ?? true;
  const sql: Sql = postgres(options.url, {
    max: options.max ?? 10,
    idle_timeout: options.idleTimeout ?? 30,
    connect_timeout: options.connectTimeout ?? 10,
    prepare,
    onnotice: () => {},
    connection: {
      application_name: 'agentflow',
      ...(options.statementTimeout ? { statement_timeout: options.statementTimeout } : {}),
    },
  });
  // Registers Drizzle's type parsers on the pool's shared options once.
  drizzle(sql);
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw toDatabaseError(error, 'select 1');
  }
  const logger: Logger = options.onQuery
    ? { logQuery: (text: string) => options.onQuery?.(text) }
    : { logQuery: () => {} };
  // A reserved connection lacks the pool's options that drizzle() reads, so the session is built
  // directly; one dialect serves every transaction.
  const dialect = new PgDialect();

  async function query<Row>(
    reserved: ReservedSql,
    text: string,
    params: readonly unknown[] = [],
    arrays = false,
  ) {
    options.onQuery?.(text);
    try {
      const pending = reserved.unsafe(text, params as Postgres.ParameterOrJSON<never>[], { prepare });
      // execute() queues it now: statements reach the server in the order they were called, which
      // the set-up relies on (postgres.js would otherwise queue it only when awaited).
      return (await (arrays ? pending.values() : pending).execute()) as unknown as Row[];
    } catch (error) {
      throw toDatabaseError(error, text, params);
    }
  }

  function connectionFor(reserved: ReservedSql): Connection {
    let db: PostgresJsDatabase<Record<string, never>> | undefined;
    return {
      // Built on first use: hot paths run compiled statements through queryArrays and never need it.
      get db() {
        db ??= new PostgresJsDatabase(
          dialect,
          prepare
            ? new PreparingSession(reserved, dialect, undefined, { logger })
            : new PostgresJsSession(reserved, dialect, undefined, { logger }),
          undefined,
        );
        return db;
      },
      query: (text, params) => query(reserved, text, params),
      queryArrays: (text, params) => query<unknown[]>(reserved, text, params, true),
      async exec(script: string) {
        options.onQuery?.(script);
        try {
          await reserved.unsafe(script);
        } catch (error) {
          throw toDatabaseError(error, script);
        }
      },
    };
  }

  return {
    kind: 'postgres',
    location: redactUrl(options.url),
    async transaction<T>(
      setup: SqlStatement | undefined,
      work: (connection: Connection) => Promise<T>,
      transactionOptions: TransactionOptions = {},
    ) {
      const reserved = await sql.reserve();
      // In a single-statement unit, COMMIT is queued right behind the statement, in the same write.
      let commit: Promise<unknown> | undefined;
      const client = transactionOptions.singleStatement
        ? singleStatementClient(reserved, ['unsafe'], (statement) => {
            (statement as Postgres.PendingQuery<Postgres.Row[]>).execute();
            commit = reserved.unsafe('commit').execute();
            commit.catch(() => {});
          })
        : reserved;
      const connection = connectionFor(client);
      let releaseNow = true;
      try {
        // BEGIN and the setup are written without waiting, so they travel with work's first statement.
        const begin = reserved.unsafe(transactionOptions.readOnly ? 'begin read only' : 'begin').execute();
        // Sent on the reserved connection itself: a single-statement unit's one statement is the work's.
        const ready: Promise<unknown> = setup ? query(reserved, setup.text, setup.params) : begin;
        // Avoids an unhandled rejection while work runs; the error is rethrown below.
        begin.catch(() => {});
        ready.catch(() => {});
        let result: T;
        try {
          result = await work(connection);
          await ready;
        } catch (error) {
          // After a pipelined COMMIT there is nothing left to roll back (a failed statement made it a ROLLBACK).
          await (commit ?? reserved.unsafe('rollback')).catch(() => {});
          // A failed BEGIN or setup aborts everything after it: report its error, not the ones it caused.
          await begin.catch((beginError: unknown) => {
            throw toDatabaseError(beginError, 'begin');
          });
          await ready;
          throw error;
        }
        if (transactionOptions.readOnly) {
          // A read-only transaction wrote nothing that its COMMIT could lose: the result stands
          // without waiting for it. The connection goes back to the pool once COMMIT completes,
          // so the next transaction on it cannot start before this one has ended.
          releaseNow = false;
          (commit ?? reserved.unsafe('commit')).catch(() => {}).finally(() => reserved.release());
          return result;
        }
        try {
          await (commit ?? reserved.unsafe('commit'));
        } catch (error) {
          throw toDatabaseError(error, 'commit');
        }
        return result;
      } finally {
        if (releaseNow) reserved.release();
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
