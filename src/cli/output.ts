import type { DemoSeedResult } from '../seed/demo-seed.ts';

/** One line of the command's output on stdout. */
export const print = (text: string) => process.stdout.write(`${text}\n`);

/** What a demo seeding created, with the secrets it shows this once. */
export function printSeed(result: DemoSeedResult): void {
  if (!result.created) {
    print('demo data already present; nothing seeded');
    return;
  }
  print(`seeded demo tenants: ${result.tenants.join(', ')}`);
  print('demo logins (shown once; only password hashes are stored):');
  for (const login of result.credentials) print(`  ${login.email}  ${login.password}`);
  print('demo agent API keys (shown once; only hashes of their secrets are stored):');
  for (const { tenant, agent, key } of result.agentKeys) print(`  ${tenant}/${agent}  ${key}`);
}
