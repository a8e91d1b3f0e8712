import { useTestPasswordHashCost } from '../../src/tenancy/password-hash.ts';

// Run in every test worker before its test file (vitest `setupFiles`).
//
// Password hashes of 2^10 instead of 2^15: a scrypt hash at the production cost takes ~100-250 ms of
// CPU, and the suites hash hundreds of passwords (each login, each setPassword, each decoy). What
// they test (salting, verification, refusals, the same answer for every failed login) does not
// depend on the cost, which every hash carries; test/tenancy/password-hash.test.ts checks the
// production cost itself.
useTestPasswordHashCost(2 ** 10);
