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
/** Largest JSON document accepted, measured as the UTF-8 bytes of its JSON.stringify form (what is stored). */
export const JSON_DOCUMENT_MAX_BYTES = 1024 * 1024;
/** Deepest nesting of objects and arrays accepted in a JSON document; the root object is depth 1. */
export const JSON_DOCUMENT_MAX_DEPTH = 64;

/**
 * A JSON object column (config, state, settings…). Only plain JSON passes: anything JSON.stringify
 * would drop, rewrite or choke on (undefined, functions, symbols, BigInt, NaN, Dates, Maps, class
 * instances, cycles) is refused with its path, so what is stored is exactly what was given. The
 * value is returned as is, not copied: z.record would silently drop a `__proto__` key.
 */
export const jsonObjectSchema = z.custom<Record<string, unknown>>().check((payload) => {
  const issue = jsonDocumentIssue(payload.value);
  if (issue) payload.issues.push({ code: 'custom', input: payload.value, ...issue });
});

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
    const found = findNul(result.data, [], new Set());
    if (found !== undefined) {
      const path = found.path.join('.') || '(input)';
      throw new ValidationError(`invalid ${what}: ${path}: ${found.message}`, [
        { path, message: found.message },
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

/**
 * The first string (value or object key) holding U+0000, or a reference cycle, or undefined. Schemas
 * refuse cycles first; meeting one here anyway must still end in a ValidationError, not a stack overflow.
 */
function findNul(value: unknown, path: string[], open: Set<object>): Issue | undefined {
  if (typeof value === 'string') {
    return value.includes('\0') ? { path: [...path], message: NUL_MESSAGE } : undefined;
  }
  if (typeof value !== 'object' || value === null || value instanceof Date) return undefined;
  if (open.has(value)) return { path: [...path], message: CYCLE_MESSAGE };
  open.add(value);
  for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    path.push(String(key));
    if (typeof key === 'string' && key.includes('\0')) return { path: [...path], message: NUL_MESSAGE };
    const found = findNul(item, path, open);
    if (found) return found;
    path.pop();
  }
  open.delete(value);
  return undefined;
}

interface Issue {
  path: string[];
  message: string;
}

/** One walk over a JSON document. */
interface JsonWalk {
  /** UTF-8 bytes of the document's JSON text so far. */
  bytes: number;
  /** Objects and arrays enclosing the current value: meeting one again is a cycle, not a shared reference. */
  readonly open: Set<object>;
  /** Where the walk is; left at the offending value when it stops. */
  readonly path: string[];
}

const NUL_MESSAGE = 'must not contain NUL (\\u0000) characters';
const CYCLE_MESSAGE = 'must not refer to itself (a reference cycle cannot be stored as JSON)';
const TOO_LARGE = `must not exceed ${JSON_DOCUMENT_MAX_BYTES} bytes (1 MiB) as JSON`;

/** Why `value` is not a plain JSON object within the limits, and where, or undefined. */
function jsonDocumentIssue(value: unknown): Issue | undefined {
  if (!isPlainObject(value)) return { path: [], message: `must be a JSON object, not ${describe(value)}` };
  const walk: JsonWalk = { bytes: 0, open: new Set(), path: [] };
  const message = jsonValueIssue(value, walk);
  if (message === undefined) return undefined;
  // The size belongs to the whole document, not to the value where counting crossed the limit.
  return { path: message === TOO_LARGE ? [] : walk.path, message };
}

function jsonValueIssue(value: unknown, walk: JsonWalk): string | undefined {
  switch (typeof value) {
    case 'string':
      return jsonStringIssue(value, walk);
    case 'number':
      if (!Number.isFinite(value)) return `must be a finite number, not ${value}`;
      walk.bytes += String(value).length;
      break;
    case 'boolean':
      walk.bytes += value ? 4 : 5;
      break;
    case 'object':
      if (value === null) walk.bytes += 4;
      else return jsonContainerIssue(value, walk);
      break;
    default:
      return `must be a JSON value, not ${describe(value)}`;
  }
  return walk.bytes > JSON_DOCUMENT_MAX_BYTES ? TOO_LARGE : undefined;
}

function jsonContainerIssue(value: object, walk: JsonWalk): string | undefined {
  const array = Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
  if (!array && !isPlainObject(value)) return `must be a JSON value, not ${describe(value)}`;
  if (walk.open.has(value)) return CYCLE_MESSAGE;
  if (walk.open.size >= JSON_DOCUMENT_MAX_DEPTH) {
    return `must not nest objects and arrays more than ${JSON_DOCUMENT_MAX_DEPTH} deep`;
  }
  walk.open.add(value);
  walk.bytes += 1; // the opening bracket; each entry adds its separator or the closing one
  if (array) {
    const items = value as unknown[];
    if (items.length === 0) walk.bytes += 1;
    for (let index = 0; index < items.length; index++) {
      walk.path.push(String(index));
      // A hole reads as undefined and is refused with it: JSON.stringify would turn it into null.
      const message = jsonValueIssue(items[index], walk);
      if (message !== undefined) return message;
      walk.path.pop();
      walk.bytes += 1;
    }
  } else {
    // JSON.stringify drops symbol keys without a word.
    if (Object.getOwnPropertySymbols(value).length > 0) return 'must not have symbol keys';
    const keys = Object.keys(value);
    if (keys.length === 0) walk.bytes += 1;
    for (const key of keys) {
      walk.path.push(key);
      const message =
        jsonStringIssue(key, walk) ?? jsonValueIssue((value as Record<string, unknown>)[key], walk);
      if (message !== undefined) return message;
      walk.path.pop();
      walk.bytes += 2; // the colon, and the comma or closing brace
    }
  }
  walk.open.delete(value);
  return walk.bytes > JSON_DOCUMENT_MAX_BYTES ? TOO_LARGE : undefined;
}

/** Adds the bytes of `text` as a JSON string literal (escapes included) to the walk. */
function jsonStringIssue(text: string, walk: JsonWalk): string | undefined {
  // Every character takes at least one byte: stop before counting a string that cannot fit.
  if (walk.bytes + text.length + 2 > JSON_DOCUMENT_MAX_BYTES) return TOO_LARGE;
  let bytes = 2;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20) bytes += code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
    else if (code === 0x22 || code === 0x5c) bytes += 2;
    else if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code < 0xd800 || code > 0xdfff) bytes += 3;
    else if (code <= 0xdbff && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      index++;
    } else {
      // PostgreSQL refuses an unpaired surrogate in jsonb with an untyped syntax error.
      return 'must be well-formed Unicode (it holds an unpaired surrogate)';
    }
  }
  walk.bytes += bytes;
  return walk.bytes > JSON_DOCUMENT_MAX_BYTES ? TOO_LARGE : undefined;
}

/** An object literal's kind. Not Object.create(null): Drizzle reads `.constructor` of a column value and throws. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Names what a refused value is, for the message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    return Object.getPrototypeOf(value) === null
      ? 'an object without a prototype'
      : `an instance of ${value.constructor?.name ?? 'a class'}`;
  }
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'number') return String(value);
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
