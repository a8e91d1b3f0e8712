import { ValidationError } from '../errors/index.ts';

/** Keys, names and ids above this length are almost certainly a bug (a value passed as a key). */
const MAX_NAME_LENGTH = 512;

function invalid(path: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message }], cause ? { cause } : undefined);
}

/** A key, name, id or tag: a non-empty string of at most 512 characters. */
export function assertName(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw invalid(path, `must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
}

/** Durations (TTLs, waits) and counts (costs, limits): positive safe integers. */
export function assertPositiveInteger(value: unknown, path: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw invalid(path, 'must be a positive integer');
  }
}

/** Like assertPositiveInteger, but 0 is allowed (e.g. "do not wait"). */
export function assertNonNegativeInteger(value: unknown, path: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalid(path, 'must be a non-negative integer');
  }
}

/** Serialises a value that must survive a trip through Redis; `undefined` is reserved for "miss". */
export function encodeJson(value: unknown, path: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw invalid(path, `is not JSON-serialisable: ${(error as Error).message}`, error);
  }
  if (json === undefined) throw invalid(path, 'must be a JSON value (not undefined or a function)');
  return json;
}

/** A list of names (tags): an array whose items pass assertName. */
export function assertNames(values: unknown, path: string): asserts values is readonly string[] {
  if (!Array.isArray(values)) throw invalid(path, 'must be an array of strings');
  for (const value of values) assertName(value, `${path}[]`);
}

export function assertFunction(value: unknown, path: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalid(path, 'must be a function');
}
