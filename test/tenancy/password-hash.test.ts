import { describe, expect, it, vi } from 'vitest';
import { hashPassword, useTestPasswordHashCost, verifyPassword } from '../../src/tenancy/password-hash.ts';

describe('password hashes', () => {
  it('use scrypt N=2^15, r=8, p=1 by default (the harness lowers it for the other suites)', async () => {
    // A fresh instance of the module, as the library, the CLI and the server load it: nothing lowered.
    vi.resetModules();
    const fresh = await import('../../src/tenancy/password-hash.ts');
    const strong = await fresh.hashPassword('correct horse battery');
    expect(strong.reveal()).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    // Every hash is verified with the parameters it carries, whatever the cost of new hashes is.
    expect(await verifyPassword('correct horse battery', strong)).toBe(true);
    expect(await verifyPassword('correct horse battery!', strong)).toBe(false);
    const cheap = await hashPassword('correct horse battery');
    expect(cheap.reveal()).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await fresh.verifyPassword('correct horse battery', cheap)).toBe(true);
  });

  it('refuses a test cost that is not a power of two from 2^10 to 2^15', () => {
    for (const cost of [1000, 2 ** 9, 2 ** 16, Number.NaN])
      expect(() => useTestPasswordHashCost(cost)).toThrow(RangeError);
  });
});
