import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Secret } from '../shared/secret.ts';
import { passwordFits } from '../shared/validation.ts';

// scrypt is a slow, memory-hard password hash built into Node: no native dependency to install.
const COST = 2 ** 15;
/** The cost new hashes get: COST unless a test suite lowered it with useTestPasswordHashCost. */
let hashCost = COST;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

function derive(
  password: string,
  salt: Buffer,
  cost: number,
  blockSize: number,
  parallelism: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { N: cost, r: blockSize, p: parallelism, maxmem: MAX_MEMORY },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** Returns `scrypt$N$r$p$salt$key`, parameters included so that they can be raised later. */
export async function hashPassword(password: string): Promise<Secret> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, hashCost, BLOCK_SIZE, PARALLELISM);
  return new Secret(
    ['scrypt', hashCost, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$'),
  );
}

export async function verifyPassword(password: string, stored: Secret): Promise<boolean> {
  // No password that long was ever accepted (PASSWORD_MAX_BYTES): nothing to hash.
  if (!passwordFits(password)) return false;
  const [scheme, cost, blockSize, parallelism, salt, key] = stored.reveal().split('$');
  if (scheme !== 'scrypt' || !cost || !blockSize || !parallelism || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64'),
    Number(cost),
    Number(blockSize),
    Number(parallelism),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let decoy: Promise<Secret> | undefined;

/** A valid hash of nothing anyone knows: verifying against it costs what a real check costs. */
export function decoyPasswordHash(): Promise<Secret> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

/**
 * TESTS ONLY: makes the new hashes of this process use scrypt cost `cost` (a power of two, at least
 * 2^10) instead of 2^15, so that suites that hash hundreds of passwords do not spend most of their
 * time in scrypt. Hashes keep their parameters, so verification is unchanged. Never called by the
 * library, the CLI or the server; the test harness calls it in every test worker (a set-up file).
 */
export function useTestPasswordHashCost(cost: number): void {
  if (!Number.isInteger(Math.log2(cost)) || cost < 2 ** 10 || cost > COST)
    throw new RangeError(`a test password hash cost is a power of two from 2^10 to 2^15, not ${cost}`);
  hashCost = cost;
  decoy = undefined;
}
