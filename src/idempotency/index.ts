// Idempotency keys of the HTTP API: contracts and row type.

export * from './idempotency-keys.contract.ts';
export type { IdempotencyKey } from './idempotency-keys.schema.ts';
