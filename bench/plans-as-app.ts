import { postgres } from '../src/engine/postgres-driver.ts';

/**
 * The plans PostgreSQL ran for each statement, executed as agentflow_app in one transaction with
 * these `agentflow.*` settings: the statement's own plan and those of the statements nested in the
 * functions it calls (a SECURITY DEFINER function's query, which EXPLAIN cannot show). Through
 * auto_explain, whose settings only a superuser may change: `url` must be a superuser's. Each plan is
 * reduced to its scans and its duration; plans that read no table are left out.
 */
export async function plansAsApp(
  url: string,
  settings: Readonly<Record<string, string>>,
  statements: readonly string[],
): Promise<string[]> {
  const logged: string[] = [];
  const sql = postgres(url, { max: 1, onnotice: (notice) => logged.push(String(notice.message)) });
  try {
    await sql.unsafe(`LOAD 'auto_explain'`);
    for (const setting of [
      'log_min_duration = 0',
      'log_analyze = on',
      'log_timing = off',
      'log_nested_statements = on',
    ])
      await sql.unsafe(`SET auto_explain.${setting}`);
    return await sql.begin(async (tx) => {
      for (const [name, value] of Object.entries(settings))
        await tx`SELECT set_config(${`agentflow.${name}`}, ${value}, true)`;
      await tx.unsafe('SET LOCAL ROLE agentflow_app');
      const plans: string[] = [];
      for (const statement of statements) {
        logged.length = 0;
        await tx.unsafe('SET LOCAL client_min_messages = log');
        await tx.unsafe(statement);
        await tx.unsafe('SET LOCAL client_min_messages = notice');
        for (const text of logged) {
          const lines = text.split('\n');
          const query =
            lines
              .find((l) => l.startsWith('Query Text:'))
              ?.slice('Query Text:'.length)
              .trim() ?? '';
          const scans = lines
            .filter((l) => /Scan on|Scan using/.test(l))
            .map((l) => l.trim().replace(/^->\s*/, ''));
          // Nested lookups (a policy's helper, an inlined constant) read no table worth showing.
          if (scans.length === 0 || !query || /^SELECT (a\.project_id|1 FROM memberships)/.test(query))
            continue;
          const duration = /duration: ([\d.]+ ms)/.exec(text)?.[1];
          plans.push(
            `${query.replace(/\s+/g, ' ').slice(0, 90)}…\n    ${scans.join('\n    ')}\n    ${duration ?? ''}`,
          );
        }
      }
      return plans;
    });
  } finally {
    await sql.end();
  }
}
