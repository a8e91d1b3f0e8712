import { type SQL, sql } from 'drizzle-orm';

/**
 * `'a', 'b', …` as SQL literals, for a CHECK declared with Drizzle's `check()`: a CHECK takes no
 * bound parameters, and listing the values from the TypeScript constant keeps the two the same.
 * Only for the library's own constants (letters, digits, underscores).
 */
export function sqlValues(values: readonly string[]): SQL {
  for (const value of values)
    if (!/^[A-Za-z0-9_]+$/.test(value)) throw new Error(`not a plain constant for a CHECK: ${value}`);
  return sql.raw(values.map((value) => `'${value}'`).join(', '));
}
