import { REDACTED, Secret } from '../shared/secret.ts';

/** The statement's parameters with every `Secret` replaced, and the secret texts to scrub elsewhere. */
export function redactParams(params: readonly unknown[] | undefined): {
  params: readonly unknown[] | undefined;
  secrets: readonly string[];
} {
  if (!params?.some((param) => param instanceof Secret)) return { params, secrets: [] };
  const secrets = params.filter((param) => param instanceof Secret).map((secret) => secret.reveal());
  return { params: params.map((param) => (param instanceof Secret ? REDACTED : param)), secrets };
}

/** `text` with each secret replaced by `[redacted]`. */
export function scrubText<Text extends string | undefined>(text: Text, secrets: readonly string[]): Text {
  if (text === undefined) return text;
  let scrubbed: string = text;
  for (const secret of secrets) scrubbed = scrubbed.replaceAll(secret, REDACTED);
  return scrubbed as Text;
}

function holdsSecret(value: unknown, secrets: readonly string[]): boolean {
  return (
    value instanceof Secret || (typeof value === 'string' && secrets.some((secret) => value.includes(secret)))
  );
}

/**
 * The driver's error with no secret left in it, for use as a DatabaseError's cause. Drivers keep
 * the statement's parameters on their errors (postgres.js as `parameters`, already serialised to
 * text, and `args`; PGlite as `params`), hidden from JSON but shown by util.inspect: secrets are
 * replaced in those arrays and in every text property, in place. postgres.js defines some of those
 * properties read-only (its `stack` repeats the message): when a secret sits in one of them, a
 * scrubbed copy stands in for the driver's error.
 */
export function redactDriverError(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || typeof error !== 'object' || error === null) return error;
  let scrubbedInPlace = true;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (!descriptor) continue;
    // Newer V8 makes `stack` an accessor.
    const value: unknown = 'value' in descriptor ? descriptor.value : Reflect.get(error, key);
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (holdsSecret(item, secrets)) value[index] = REDACTED;
      });
    } else if (typeof value === 'string' && holdsSecret(value, secrets)) {
      const writable = descriptor.writable === true || descriptor.set !== undefined;
      if (!writable || !Reflect.set(error, key, scrubText(value, secrets))) scrubbedInPlace = false;
    }
  }
  return scrubbedInPlace ? error : scrubbedCopy(error, secrets);
}

function scrubbedCopy(error: object, secrets: readonly string[]): Error {
  const source = error as { message?: unknown; name?: unknown; stack?: unknown };
  const copy = new Error(scrubText(String(source.message ?? ''), secrets));
  copy.name = String(source.name ?? 'Error');
  copy.stack = scrubText(String(source.stack ?? copy.stack), secrets);
  // The fields translation reads (code, detail, constraint…).
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'message' && key !== 'stack')
      Reflect.set(copy, key, typeof value === 'string' ? scrubText(value, secrets) : value);
  }
  return copy;
}
