import type { Logger } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { drizzle, PostgresJsDatabase, PostgresJsSession } from 'drizzle-orm/postgres-js';
import type Postgres from 'postgres';
import {
  type AgentflowError,
  ConfigurationError,
  ConnectionError,
  isConnectionLoss,
  toDatabaseError,
} from '../errors/index.ts';
import { redactUrl } from './database-url.ts';
import type { Connection, Engine, QueryListener, SqlStatement, TransactionOptions } from './engine.ts';
import { postgres } from './postgres-driver.ts';
import { abortedUnitError, SESSION_RESET, UnitGuard } from './unit-guard.ts';

export interface PostgresEngineOptions {
  url: string;
  /** Pool size (default 10). */
  max?: number;
  /** Seconds an idle connection is kept (default 30). */
  idleTimeout?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
  /**
   * Server-side prepared statements. Unset: on, unless a connection pooler (PgBouncer) is detected
   * at start-up, where they are turned off. `true` insists, and opening then fails behind a pooler.
   */
  prepare?: boolean;
  /** Milliseconds a statement may run before the server cancels it (0 = no limit). */
  statementTimeout?: number;
  onQuery?: QueryListener;
}

type Sql = Postgres.Sql;
type ReservedSql = Postgres.ReservedSql;

/** A driver failure as this library reports it: a lost connection apart from a failed statement. */
function failure(error: unknown, text?: string, params?: readonly unknown[]): AgentflowError {
  if (!isConnectionLoss(error)) return toDatabaseError(error, text, params);
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectionError(
    `the connection to the database was lost or could not be made (${reason}); nothing was committed: run it again`,
    { cause: error },
  );
}

/** The same loss once COMMIT was sent: whether the server committed before it went is unknown. */
function lostDuringCommit(error: unknown): unknown {
  if (!(error instanceof ConnectionError)) return error;
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
  return new ConnectionError(
    `the connection to the database was lost while COMMIT was in flight (${cause}); the unit of work may or may not have been committed`,
    { cause: error.cause, commitOutcomeUnknown: true },
  );
}

/**
 * Whether a connection pooler sits between this pool and the server: PgBouncer (and its kind)
 * hands the client a cancel key of its own, so the process id in it is not the server backend's.
 * Costs nothing extra: it is the start-up probe's own statement, sent as a simple query so that
 * nothing is prepared before the answer is known.
 */
export async function detectPooler(sql: Sql): Promise<boolean> {
  const rows = await sql.unsafe<{ pid: number }[]>('select pg_backend_pid() as pid');
  return rows[0]?.pid !== rows.state.pid;
}

// postgres.js reads `simple` (untyped): false keeps a statement without parameters off the simple protocol.
const EXTENDED_PROTOCOL = { simple: false } as Postgres.UnsafeQueryOptions;

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
  // Unset: on unless a pooler is detected (below).
  let prepare = options.prepare ?? true;
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
  let pooled: boolean;
  try {
    pooled = await detectPooler(sql);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw failure(error, 'select pg_backend_pid()');
  }
  // Behind PgBouncer's transaction mode a statement prepared on one server connection is missing
  // on the next, and postgres.js 3.4.9 then waits for good (49 of 60 units hung through 1.18).
  if (pooled && prepare) {
    if (options.prepare) {
      await sql.end({ timeout: 1 });
      throw new ConfigurationError(
        `${redactUrl(options.url)} answers through a connection pooler (PgBouncer or the like), where server-side prepared statements hang units of work in transaction mode: leave postgres.prepare unset (it is turned off behind a pooler) or pass false`,
      );
    }
    prepare = false;
    sql.options.prepare = false;
  }
  const logger: Logger = options.onQuery
    ? { logQuery: (text: string) => options.onQuery?.(text) }
    : { logQuery: () => {} };
  // A reserved connection lacks the pool's options that drizzle() reads, so the session is built
  // directly; one dialect serves every transaction.
  const dialect = new PgDialect();

  async function query<Row>(
    client: Pick<ReservedSql, 'unsafe'>,
    text: string,
    params: readonly unknown[] = [],
    arrays = false,
  ) {
    try {
      const pending = client.unsafe(text, params as Postgres.ParameterOrJSON<never>[], { prepare });
      // Reported once the unit's guard let it through.
      options.onQuery?.(text);
      // execute() queues it now: statements reach the server in the order they were called, which
      // the set-up relies on (postgres.js would otherwise queue it only when awaited).
      return (await (arrays ? pending.values() : pending).execute()) as unknown as Row[];
    } catch (error) {
      throw failure(error, text, params);
    }
  }

  function connectionFor(reserved: ReservedSql, guard: UnitGuard): Connection {
    // The only client the work reaches, Drizzle's session included. Always the extended protocol
    // (postgres.js sends a statement without parameters as a simple query, which may hold several),
    // so the one statement the guard read is the one the server runs.
    const client = {
      unsafe: (
        text: string,
        params?: Postgres.ParameterOrJSON<never>[],
        queryOptions?: Postgres.UnsafeQueryOptions,
      ) => guard.send(text, () => reserved.unsafe(text, params, { ...queryOptions, ...EXTENDED_PROTOCOL })),
      begin: () => guard.refuseNestedTransaction(),
    } as unknown as ReservedSql;
    let db: PostgresJsDatabase<Record<string, never>> | undefined;
    return {
      // Built on first use: hot paths run compiled statements through queryArrays and never need it.
      get db() {
        guard.assertOpen();
        db ??= new PostgresJsDatabase(
          dialect,
          prepare
            ? new PreparingSession(client, dialect, undefined, { logger })
            : new PostgresJsSession(client, dialect, undefined, { logger }),
          undefined,
        );
        return db;
      },
      query: (text, params) => query(client, text, params),
      queryArrays: (text, params) => query<unknown[]>(client, text, params, true),
      async exec(script: string) {
        guard.assertOpen();
        options.onQuery?.(script);
        try {
          await reserved.unsafe(script);
        } catch (error) {
          throw failure(error, script);
        }
      },
      markCallerSql: () => guard.markCallerSql(),
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
      const reserved = await sql.reserve().catch((error: unknown) => {
        throw failure(error);
      });
      // How the transaction ends: SESSION_RESET when the work ran caller SQL, then COMMIT or ROLLBACK,
      // written together. A single-statement unit queues it right behind its statement.
      let ending: { end: Promise<unknown>; reset: Promise<boolean> | undefined } | undefined;
      const end = (statement: 'commit' | 'rollback'): Promise<unknown> => {
        const reset = guard.ranCallerSql
          ? reserved
              .unsafe(SESSION_RESET)
              .execute()
              .then(
                () => true,
                () => false,
              )
          : undefined;
        ending = { end: reserved.unsafe(statement).execute(), reset };
        ending.end.catch(() => {});
        return ending.end;
      };
      // An aborted transaction refused the reset: it runs on its own once the transaction is over.
      const resetAfterEnd = async () => {
        if (ending?.reset && !(await ending.reset))
          await reserved
            .unsafe(SESSION_RESET)
            .execute()
            .catch(() => {});
      };
      const guard = new UnitGuard(
        transactionOptions.singleStatement
          ? (statement) => {
              (statement as Postgres.PendingQuery<Postgres.Row[]>).execute();
              end('commit');
            }
          : undefined,
      );
      const connection = connectionFor(reserved, guard);
      let releaseNow = true;
      try {
        // BEGIN and the setup are written without waiting, so they travel with work's first statement.
        // READ WRITE is explicit: a default_transaction_read_only left on the server connection
        // (another PgBouncer client's) cannot turn the unit read-only.
        const begin = reserved
          .unsafe(transactionOptions.readOnly ? 'begin read only' : 'begin read write')
          .execute();
        // Sent on the reserved connection itself: a single-statement unit's one statement is the work's.
        const ready: Promise<unknown> = setup ? query(reserved, setup.text, setup.params) : begin;
        // Avoids an unhandled rejection while work runs; the error is rethrown below.
        begin.catch(() => {});
        ready.catch(() => {});
        let result: T;
        try {
          try {
            result = await work(connection);
          } finally {
            guard.close();
          }
          await ready;
        } catch (error) {
          // After a pipelined COMMIT there is nothing left to roll back (a failed statement made it a ROLLBACK).
          const commitSent = ending !== undefined;
          await (ending?.end ?? end('rollback')).catch(() => {});
          await resetAfterEnd();
          // A failed BEGIN or setup aborts everything after it: report its error, not the ones it caused.
          await begin.catch((beginError: unknown) => {
            throw failure(beginError, 'begin');
          });
          await ready;
          // A pipelined COMMIT may have reached the server before the connection went.
          throw commitSent ? lostDuringCommit(error) : error;
        }
        if (transactionOptions.readOnly) {
          // A read-only transaction wrote nothing that its COMMIT could lose: the result stands
          // without waiting for it. The connection goes back to the pool once COMMIT (and any reset)
          // completes, so the next transaction on it cannot start before this one has ended.
          releaseNow = false;
          (ending?.end ?? end('commit'))
            .catch(() => {})
            .then(resetAfterEnd)
            .finally(() => reserved.release());
          return result;
        }
        let committed: unknown;
        try {
          committed = await (ending?.end ?? end('commit'));
        } catch (error) {
          throw lostDuringCommit(failure(error, 'commit'));
        } finally {
          await resetAfterEnd();
        }
        // The server answers COMMIT in an aborted transaction with ROLLBACK, and no error.
        if ((committed as { command?: string }).command === 'ROLLBACK') throw abortedUnitError();
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
