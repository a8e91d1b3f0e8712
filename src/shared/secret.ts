import { inspect } from 'node:util';
import { customType } from 'drizzle-orm/pg-core';

/** What a secret shows as wherever it is printed, logged or recorded. */
export const REDACTED = '[redacted]';

/**
 * A value that must never be printed: a password hash, an API key hash. Repositories pass it to
 * the driver as it is, so that an error recording the statement's parameters can recognise it and
 * redact it (see src/errors/redact.ts); util.inspect and JSON show `[redacted]`. Only a string
 * conversion yields the text, because that is how both drivers serialise a parameter (PGlite
 * calls `toString()`, postgres.js writes `'' + value`); code that means to read it calls `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return this.#value;
  }

  valueOf(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/**
 * A text column holding a secret: written from a `Secret`, read back as one, so its value never
 * travels through the library as a plain string.
 */
export const secretText = customType<{ data: Secret; driverData: string }>({
  dataType: () => 'text',
  // The Secret itself reaches the driver (see above): only then can a failed statement's error
  // tell which parameter to redact.
  toDriver: (value) => value as unknown as string,
  fromDriver: (value) => new Secret(value),
});
