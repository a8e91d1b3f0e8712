import { mkdir } from 'node:fs/promises';
import { PGlite, type QueryOptions, type Transaction, types } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { toDatabaseError } from '../errors/index.ts';
import type { Connection, Engine, QueryListener, SqlStatement, TransactionOptions } from './engine.ts';
import { singleStatementClient } from './single-statement.ts';

export interface PgliteEngineOptions {
  /** A folder to keep the database in; undefined keeps it in memory. */
  dataDir: string | undefined;
  onQuery?: QueryListener;
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
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pglite = new PGlite(options.dataDir);
  await pglite.waitReady;
  const logger = options.onQuery ? { logQuery: (text: string) => options.onQuery?.(text) } : false;

  async function query<Row>(
    tx: Transaction,
    text: string,
    params: readonly unknown[] = [],
    queryOptions?: QueryOptions,
  ) {
    options.onQuery?.(text);
    try {
      const result = await tx.query<Row>(text, params as unknown[], queryOptions);
      return result.rows;
    } catch (error) {
      throw toDatabaseError(error, text, params);
    }
  }

  function connectionFor(tx: Transaction): Connection {
    let db: Connection['db'] | undefined;
    return {
      // Built on first use: hot paths run compiled statements through queryArrays and never need it.
      get db() {
        db ??= drizzle(tx as unknown as PGlite, { logger });
        return db;
      },
      query: (text, params) => query(tx, text, params),
      queryArrays: (text, params) => query<unknown[]>(tx, text, params, ARRAY_ROWS),
      async exec(script: string) {
        options.onQuery?.(script);
        try {
          await tx.exec(script);
        } catch (error) {
          throw toDatabaseError(error, script);
        }
      },
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
      // One connection: a transaction opened inside another would wait forever (Store refuses it).
      const result = await pglite.transaction(async (tx) => {
        const setupConnection = connectionFor(tx);
        if (transactionOptions.readOnly) await setupConnection.query('SET TRANSACTION READ ONLY');
        if (setup) await setupConnection.query(setup.text, setup.params);
        if (!transactionOptions.singleStatement) return work(setupConnection);
        const single = singleStatementClient(tx, ['query', 'exec'], (statement) => {
          (statement as Promise<unknown>).then(
            () => {
              statementSucceeded = true;
            },
            () => {},
          );
        });
        try {
          return await work(connectionFor(single));
        } catch (error) {
          if (!statementSucceeded) throw error;
          thrownAfterStatement = { error };
          return undefined;
        }
      });
      if (thrownAfterStatement) throw thrownAfterStatement.error;
      return result as T;
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
