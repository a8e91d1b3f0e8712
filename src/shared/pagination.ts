import { getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { ValidationError } from '../errors/index.ts';
import { parseInput } from './validation.ts';

/** Items a list returns when the caller names no `limit`. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The most items one list call returns: no list is unbounded. */
export const MAX_PAGE_LIMIT = 1000;
// A cursor holds a few key values; anything longer was not made by encodeCursor.
const MAX_CURSOR_LENGTH = 2048;

/** The paging fields of every list's input contract: spread them into its schema. */
export const pageFields = {
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  /** The `nextCursor` of the previous page, as given; absent for the first page. */
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
};

/** One page of a list; `nextCursor` is null on the last page. */
export interface Page<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** A value of a sort key as a cursor carries it (timestamps as ISO text). */
export type KeyValue = string | number;

/**
 * The opaque cursor after the row whose sort key is `key`, in the list named `list`: base64url of
 * JSON. It is not signed: it names a position, and row-level security bounds what any position
 * shows, so a forged one reveals nothing a filter could not.
 */
export function encodeCursor(list: string, key: readonly KeyValue[]): string {
  return Buffer.from(JSON.stringify([list, ...key]), 'utf8').toString('base64url');
}

/**
 * The sort key a cursor of `list` carries, checked against `keySchema`. Anything else (not
 * base64url, not JSON, a cursor of another list, a key of the wrong shape) is a ValidationError.
 */
export function decodeCursor<Schema extends z.ZodType>(
  list: string,
  cursor: string,
  keySchema: Schema,
): z.output<Schema> {
  const refuse = (why: string) =>
    new ValidationError(`invalid ${list} cursor: ${why}; pass a page's nextCursor as it was given`, [
      { path: 'cursor', message: why },
    ]);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse('not base64url');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor');
  }
  if (!Array.isArray(payload) || payload[0] !== list) throw refuse(`not a cursor of the ${list} list`);
  try {
    return parseInput(keySchema, payload.slice(1), `${list} cursor`);
  } catch (error) {
    throw error instanceof ValidationError ? refuse('names no position of this list') : error;
  }
}

/**
 * Turns the rows a list fetched with `LIMIT limit + 1` into a page: the extra row only tells that
 * a next page exists, so the last page says so (nextCursor null) without a further, empty call.
 */
export function toPage<Row>(
  rows: Row[],
  limit: number,
  list: string,
  keyOf: (row: Row) => readonly KeyValue[],
): Page<Row> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(list, keyOf(items[limit - 1]!)) };
}

/** A timestamp sort key in a cursor: the ISO text of a Date. */
export const cursorTimestamp = z.iso.datetime().transform((text) => new Date(text));

/**
 * The exact value of the timestamp `column` in the row whose `idColumn` is `id`, else `at`. A Date
 * holds milliseconds and timestamptz microseconds, so the cursor row's own time is read back by its
 * id: rows sharing its millisecond (all rows of one transaction share `now()`) are neither skipped
 * nor repeated. It is looked for in the millisecond either side of `at`, a range an index led by
 * the time can serve; a cursor row that is gone pages on from `at` as given. The fallback stays
 * inside the sub-select: a COALESCE around it would not count as leakproof, and row-level security
 * would then keep the comparison out of an index scan.
 */
export function exactTimestamp(column: PgColumn, idColumn: PgColumn, at: Date, id: KeyValue): SQL {
  const table = sql.identifier(getTableName(column.table));
  const time = sql.identifier(column.name);
  const key = sql.identifier(idColumn.name);
  const given = sql`${at.toISOString()}::timestamptz`;
  return sql`(SELECT coalesce(max(c.${time}), ${given}) FROM ${table} c
     WHERE c.${time} > ${given} - interval '1 millisecond' AND c.${time} < ${given} + interval '1 millisecond'
       AND c.${key} = ${id})`;
}
