import { z } from 'zod';
import { ValidationError } from '../errors/index.ts';

export const uuidSchema = z.uuid();
export const slugSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and inner hyphens, at most 63 characters',
  );
export const nameSchema = z.string().trim().min(1).max(200);
export const jsonObjectSchema = z.record(z.string(), z.unknown());

/** Parses input at a repository boundary; anything invalid becomes a ValidationError listing every issue. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) {
    // PostgreSQL text and jsonb cannot hold U+0000: refuse it here, naming the field, rather than
    // let the driver fail with an untyped encoding error.
    const nul = findNul(result.data, []);
    if (nul !== undefined) {
      const path = nul.join('.') || '(input)';
      throw new ValidationError(`invalid ${what}: ${path}: must not contain NUL (\\u0000) characters`, [
        { path, message: 'must not contain NUL (\\u0000) characters' },
      ]);
    }
    return result.data;
  }
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(input)',
    message: issue.message,
  }));
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  throw new ValidationError(`invalid ${what}: ${summary}`, issues);
}

/** Validates an id before it reaches SQL, so a malformed one is a ValidationError rather than a driver error. */
export function parseId(id: unknown, what: string): string {
  return parseInput(uuidSchema, id, `${what} id`);
}

/** The path of the first string (value or object key) holding U+0000, or undefined. */
function findNul(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findNul(item, [...path, String(index)]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\0')) return [...path, key];
      const found = findNul(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}
