import type { DemoSeedResult } from '../seed/demo-seed.ts';

// Tenants' text (titles, payloads, summaries): control and bidirectional characters would rewrite
// the terminal.
const UNPRINTABLE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** `text` safe to print on a terminal, cut to `max` characters with an ellipsis. */
export function printable(text: string, max = 80): string {
  const clean = text.replace(UNPRINTABLE, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Every item of a paged list, page by page: for commands that print a whole (bounded) list. */
export async function everyPage<Item>(
  fetch: (cursor: string | undefined) => Promise<{ items: Item[]; nextCursor: string | null }>,
): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

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
