import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** The Drizzle database every repository works with, whichever engine runs it. */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, never>>;

export type EngineKind = 'pglite' | 'postgres';

export interface SqlStatement {
  text: string;
  params?: readonly unknown[];
}

/** One connection inside one open transaction. */
export interface Connection {
  readonly db: Database;
  /** Runs one parameterised statement and returns its rows as objects. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs one parameterised statement and returns each row as an array of column values, in the
   * form Drizzle's column decoders take (dates and timestamps as text).
   */
  queryArrays(text: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * The work runs SQL the library did not write (tx.query, tx.db): before the transaction ends,
   * the engine clears whatever such SQL can leave on the connection (SESSION_RESET).
   */
  markCallerSql(): void;
}

export type QueryListener = (text: string) => void;

export interface TransactionOptions {
  /** The database refuses every write; the caller need not wait for COMMIT to use the result. */
  readOnly?: boolean;
  /**
   * The work runs exactly one statement, and COMMIT is sent right behind it, so set-up, statement
   * and COMMIT share one round trip. A second statement is refused with UsageError. The
   * statement's outcome is final: an error the work throws after it succeeded does not undo it.
   */
  singleStatement?: boolean;
}

export interface Engine {
  readonly kind: EngineKind;
  /** Where the data lives, with any password removed. */
  readonly location: string;
  /**
   * Runs `work` in one transaction on one connection. `setup` is sent right after BEGIN and,
   * where the driver can, pipelined with it and with the first statement of `work`, so that
   * setting the role and tenant costs no extra round trip of its own.
   */
  transaction<T>(
    setup: SqlStatement | undefined,
    work: (connection: Connection) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T>;
  close(): Promise<void>;
}
