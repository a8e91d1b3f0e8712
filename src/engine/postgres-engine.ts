import type { Logger } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { drizzle, PostgresJsDatabase, PostgresJsSession } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { toDatabaseError } from '../errors/index.ts';
import { redactUrl } from './database-url.ts';
import type { Connection, Engine, QueryListener, SqlStatement, TransactionOptions } from './engine.ts';

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

type Sql = postgres.Sql;
type ReservedSql = postgres.ReservedSql;

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

  function connectionFor(reserved: ReservedSql): Connection {
    return {
      db: new PostgresJsDatabase(
        dialect,
        prepare
          ? new PreparingSession(reserved, dialect, undefined, { logger })
          : new PostgresJsSession(reserved, dialect, undefined, { logger }),
        undefined,
      ),
      async query<Row>(text: string, params: readonly unknown[] = []) {
        options.onQuery?.(text);
        try {
          return (await reserved.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
            prepare,
          })) as unknown as Row[];
        } catch (error) {
          throw toDatabaseError(error, text, params);
        }
      },
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
      const connection = connectionFor(reserved);
      let releaseNow = true;
      try {
        // BEGIN and the setup are written without waiting, so they travel with work's first statement.
        const begin = reserved.unsafe(transactionOptions.readOnly ? 'begin read only' : 'begin').execute();
        const ready: Promise<unknown> = setup ? connection.query(setup.text, setup.params) : begin;
        // Avoids an unhandled rejection while work runs; the error is rethrown below.
        begin.catch(() => {});
        ready.catch(() => {});
        let result: T;
        try {
          result = await work(connection);
          await ready;
        } catch (error) {
          await reserved.unsafe('rollback').catch(() => {});
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
          reserved
            .unsafe('commit')
            .catch(() => {})
            .finally(() => reserved.release());
          return result;
        }
        try {
          await reserved.unsafe('commit');
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
