import { mkdir } from 'node:fs/promises';
import { PGlite, type QueryOptions, type Transaction, types } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { ConfigurationError, toDatabaseError } from '../errors/index.ts';
import type { Connection, Engine, QueryListener, SqlStatement, TransactionOptions } from './engine.ts';
import { abortedUnitError, SESSION_RESET, UnitGuard } from './unit-guard.ts';

// SQLSTATE of PGlite's "Transaction was rolled back instead of committed".
const IN_FAILED_SQL_TRANSACTION = '25P02';

export interface PgliteEngineOptions {
  /** A folder to keep the database in; undefined keeps it in memory. */
  dataDir: string | undefined;
  onQuery?: QueryListener;
  /**
   * An in-memory database only: starts from this copy of a data folder (PGlite's `dumpDataDir()`)
   * instead of an empty one. The test harness uses it to give each suite its own copy of a migrated
   * template without copying a folder on disk.
   */
  loadDataDir?: Blob;
}

const keepAsText = (value: string) => value;

/** Array rows with date and time values left as text, for Drizzle's decoders, as its PGlite driver does. */
const ARRAY_ROWS: QueryOptions = {
  rowMode: 'array',
  parsers: {
    [types.TIMESTAMP]: keepAsText,
    [types.TIMESTAMPTZ]: keepAsText,
    [types.INTERVAL]: keepAsText,
    [types.DATE]: keepAsText,
    1231: keepAsText, // numeric[]
    1115: keepAsText, // timestamp[]
    1185: keepAsText, // timestamptz[]
    1187: keepAsText, // interval[]
    1182: keepAsText, // date[]
  },
};

/** The embedded engine: one PGlite instance, whose single connection serialises transactions. */
export async function openPgliteEngine(options: PgliteEngineOptions): Promise<Engine> {
  if (options.loadDataDir && options.dataDir)
    throw new ConfigurationError('pglite.loadDataDir starts an in-memory database (memory://), not a folder');
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pglite = options.loadDataDir
    ? new PGlite({ loadDataDir: options.loadDataDir })
    : new PGlite(options.dataDir);
  await pglite.waitReady;
  const logger = options.onQuery ? { logQuery: (text: string) => options.onQuery?.(text) } : false;

  async function query<Row>(
    client: Pick<Transaction, 'query'>,
    text: string,
    params: readonly unknown[] = [],
    queryOptions?: QueryOptions,
  ) {
    try {
      const pending = client.query<Row>(text, params as unknown[], queryOptions);
      // Reported once the unit's guard let it through.
      options.onQuery?.(text);
      const result = await pending;
      return result.rows;
    } catch (error) {
      throw toDatabaseError(error, text, params);
    }
  }

  function connectionFor(tx: Transaction, guard: UnitGuard): Connection {
    // The only client the work reaches, Drizzle's session included. PGlite's query() uses the
    // extended protocol, so it runs exactly the one statement the guard read.
    const client = {
      query: <Row>(text: string, params?: unknown[], queryOptions?: QueryOptions) =>
        guard.send(text, () => tx.query<Row>(text, params, queryOptions)),
      transaction: () => guard.refuseNestedTransaction(),
    };
    let db: Connection['db'] | undefined;
    return {
      // Built on first use: hot paths run compiled statements through queryArrays and never need it.
      get db() {
        guard.assertOpen();
        db ??= drizzle({ client: client as unknown as PGlite, logger });
        return db;
      },
      query: (text, params) => query(client, text, params),
      queryArrays: (text, params) => query<unknown[]>(client, text, params, ARRAY_ROWS),
      async exec(script: string) {
        guard.assertOpen();
        options.onQuery?.(script);
        try {
          await tx.exec(script);
        } catch (error) {
          throw toDatabaseError(error, script);
        }
      },
      markCallerSql: () => guard.markCallerSql(),
    };
  }

  return {
    kind: 'pglite',
    location: options.dataDir ?? 'memory://',
    async transaction<T>(
      setup: SqlStatement | undefined,
      work: (connection: Connection) => Promise<T>,
      transactionOptions: TransactionOptions = {},
    ) {
      // An error thrown after a single-statement unit's statement succeeded leaves it committed,
      // as on the server, where COMMIT has already been sent behind it.
      let statementSucceeded = false;
      let thrownAfterStatement: { error: unknown } | undefined;
      let workResolved = false;
      // One connection: a transaction opened inside another would wait forever (Store refuses it).
      const result = await pglite
        .transaction(async (tx) => {
          const guard = new UnitGuard(
            transactionOptions.singleStatement
              ? (statement) => {
                  (statement as Promise<unknown>).then(
                    () => {
                      statementSucceeded = true;
                    },
                    () => {},
                  );
                }
              : undefined,
          );
          if (transactionOptions.readOnly) await query(tx, 'SET TRANSACTION READ ONLY');
          if (setup) await query(tx, setup.text, setup.params);
          let outcome: { value: T } | { error: unknown };
          try {
            outcome = { value: await work(connectionFor(tx, guard)) };
          } catch (error) {
            outcome = { error };
          } finally {
            guard.close();
          }
          if ('error' in outcome && statementSucceeded) {
            thrownAfterStatement = outcome;
            outcome = { value: undefined as T };
          }
          // PGlite's one connection is every unit's: what caller SQL left on it is cleared before the
          // transaction mutex passes on. An aborted transaction refuses the reset, so it is rolled back
          // first, and a new (empty) one is opened for PGlite to end.
          if (guard.ranCallerSql) {
            const resetAfterRollback = () =>
              tx.exec(`ROLLBACK; ${SESSION_RESET}; BEGIN`).then(
                () => {},
                () => {},
              );
            if ('error' in outcome) await resetAfterRollback();
            else {
              try {
                await tx.exec(SESSION_RESET);
              } catch (error) {
                await resetAfterRollback();
                throw toDatabaseError(error, SESSION_RESET);
              }
            }
          }
          if ('error' in outcome) throw outcome.error;
          workResolved = true;
          return outcome.value;
        })
        .catch((error: unknown) => {
          // PGlite's COMMIT of an aborted transaction: what the server answers with ROLLBACK.
          if (workResolved && (error as { code?: string }).code === IN_FAILED_SQL_TRANSACTION)
            throw abortedUnitError();
          throw error;
        });
      if (thrownAfterStatement) throw thrownAfterStatement.error;
      return result;
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
