import { z } from 'zod';
import { ValidationError } from '../errors/index.ts';

export const uuidSchema = z.uuid();
export const slugSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits and inner hyphens, at most 63 characters',
  );

/**
 * A time as JSON carries it (ISO 8601 text with `Z` or an offset), as the Date a contract's
 * `z.date()` field takes: the HTTP form of such a field.
 */
export const isoDateSchema = z.iso.datetime({ offset: true }).transform((text) => new Date(text));

/** C0 and C1 control characters and DEL: ESC (U+001B) and CSI (U+009B) start ANSI escape sequences. */
const CONTROL_CHARACTER = /\p{Cc}/u;
/** Bidirectional marks, embeddings, overrides and isolates: they reorder how the text around them is shown. */
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
/** Text that draws nothing: whitespace, zero-width and other default-ignorable characters, the Braille blank. */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/**
 * A display name: stored exactly as given, so leading or trailing whitespace is refused rather than
 * trimmed; refused too when it shows nothing, or holds characters that rewrite a terminal or the
 * order of the text around them.
 */
export const nameSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => !INVISIBLE_ONLY.test(name), 'must contain a visible character')
  .refine((name) => !/^\s|\s$/u.test(name), 'must not start or end with whitespace')
  .refine(
    (name) => !CONTROL_CHARACTER.test(name) && !BIDI_CONTROL.test(name),
    'must not contain control characters (ANSI escapes included) or bidirectional controls',
  );

/** Longest password accepted, in UTF-8 bytes: scrypt's input is bounded before any hashing. */
export const PASSWORD_MAX_BYTES = 1024;

/** Whether `password` is within PASSWORD_MAX_BYTES. */
export function passwordFits(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES;
}

export const passwordSchema = z
  .string()
  .min(8)
  .refine(passwordFits, `must not exceed ${PASSWORD_MAX_BYTES} bytes as UTF-8`);

/** The URL schemes a repository is cloned over. */
const REPO_URL_SCHEMES = new Set(['https:', 'http:', 'ssh:', 'git:']);
/** git's scp-like syntax, `user@host:path` (what GitHub shows for SSH); the user is required, so no scheme passes as a host. */
const SCP_LIKE_REPO = /^[A-Za-z0-9._-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(?!\/\/)\S+$/;

function isRepoUrl(value: string): boolean {
  // URL parsing drops tabs and newlines without a word: refuse them (and every space) first.
  if (/[\s\p{Cc}]/u.test(value)) return false;
  if (SCP_LIKE_REPO.test(value)) return true;
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  // A password in the URL would be stored in clear and copied into every audit row.
  return REPO_URL_SCHEMES.has(url.protocol) && url.hostname !== '' && url.password === '';
}

/** Where a project's code lives: an https, http, ssh or git URL, or `user@host:path`; stored as given. */
export const repoUrlSchema = z
  .string()
  .max(2048)
  .refine(
    isRepoUrl,
    'an https://, http://, ssh:// or git:// URL with a host and no password, or user@host:path',
  );

/**
 * A path is one of `.`/`..` when its segment reads so once percent-decoded and NFKC-folded:
 * `%2e%2e`, fullwidth `．．` (U+FF0E), one dot leader `․` (U+2024) are `..` to some reader.
 */
function isDotSegment(segment: string): boolean {
  const folded = segment.replace(/%2e/gi, '.').normalize('NFKC');
  return folded === '.' || folded === '..';
}

/**
 * A relative file path inside a project, stored in Unicode NFC (so `café.md` typed either way is one
 * file): no leading `/`, no backslash, no control or bidirectional characters, and no empty, blank,
 * `.` or `..` segment (percent-encoded or fullwidth dots included).
 */
export const filePathSchema = z
  .string()
  .transform((path) => path.normalize('NFC'))
  .pipe(
    z
      .string()
      .min(1)
      .max(1024)
      .refine((path) => !path.startsWith('/'), 'must be relative (no leading "/")')
      .refine((path) => !path.includes('\\'), 'must separate folders with "/", not "\\"')
      .refine(
        (path) => !CONTROL_CHARACTER.test(path) && !BIDI_CONTROL.test(path),
        'must not contain control characters or bidirectional controls',
      )
      .refine(
        (path) => path.split('/').every((segment) => !INVISIBLE_ONLY.test(segment)),
        'must not have an empty or blank segment',
      )
      .refine(
        (path) => !path.split('/').some(isDotSegment),
        'must not have a "." or ".." segment (percent-encoded or fullwidth included)',
      ),
  );
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
export const jsonObjectSchema = z
  .custom<Record<string, unknown>>()
  .check((payload) => {
    const issue = jsonDocumentIssue(payload.value);
    if (issue) payload.issues.push({ code: 'custom', input: payload.value, ...issue });
  })
  // The check has no JSON Schema of its own: the OpenAPI document says at least what it takes.
  .meta({ type: 'object', description: 'a JSON object: at most 1 MiB as JSON text, 64 levels deep' });

/** Parses input at a repository boundary; anything invalid becomes a ValidationError listing every issue. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) {
    // PostgreSQL text and jsonb cannot hold U+0000, and UTF-8 cannot hold an unpaired surrogate
    // (the driver would store U+FFFD instead): refuse both here, naming the field.
    const found = findUnstorableText(result.data, [], new Set());
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

/** Why `text` cannot be stored as it is, or undefined. */
function unstorableText(text: string): string | undefined {
  if (text.includes('\0')) return NUL_MESSAGE;
  // isWellFormed: Node 20, not yet in TypeScript's ES2023 lib.
  return (text as string & { isWellFormed(): boolean }).isWellFormed() ? undefined : SURROGATE_MESSAGE;
}

/**
 * The first string (value or object key) that cannot be stored (unstorableText), or a reference
 * cycle, or undefined. Schemas refuse cycles first; meeting one here anyway must still end in a
 * ValidationError, not a stack overflow.
 */
function findUnstorableText(value: unknown, path: string[], open: Set<object>): Issue | undefined {
  if (typeof value === 'string') {
    const message = unstorableText(value);
    return message === undefined ? undefined : { path: [...path], message };
  }
  if (typeof value !== 'object' || value === null || value instanceof Date) return undefined;
  if (open.has(value)) return { path: [...path], message: CYCLE_MESSAGE };
  open.add(value);
  for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    path.push(String(key));
    const keyMessage = typeof key === 'string' ? unstorableText(key) : undefined;
    if (keyMessage !== undefined) return { path: [...path], message: keyMessage };
    const found = findUnstorableText(item, path, open);
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
const SURROGATE_MESSAGE = 'must be well-formed Unicode (it holds an unpaired surrogate)';
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
      return SURROGATE_MESSAGE;
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
