import { realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AGENT_TYPES, createAgentSchema, type IssuedAgentKey, keyPrefixSchema } from '../agents/index.ts';
import { NO_TENANT_ID } from '../audit/audit-logs.schema.ts';
import type { Engine } from '../engine/engine.ts';
import { openEngine } from '../engine/open-engine.ts';
import { AgentflowError, ValidationError } from '../errors/index.ts';
import { DEFAULT_RATE_LIMIT } from '../http/server.ts';
import { Migrator } from '../migrations/migrator.ts';
import type { RetentionReport } from '../retention/index.ts';
import { DEMO_TENANTS, seedDemo } from '../seed/demo-seed.ts';
import { MAX_PAGE_LIMIT } from '../shared/pagination.ts';
import { parseInput, slugSchema } from '../shared/validation.ts';
import { buildStatusReport, formatStatusReport, formatVerifyReport } from '../status/status-report.ts';
import { openStore, type Store } from '../store/store.ts';
import type { ServiceTx } from '../store/unit-of-work.ts';
import {
  createTenantSchema,
  createUserSchema,
  MEMBERSHIP_ROLES,
  membershipRoleSchema,
  TENANT_PLANS,
  TENANT_STATUSES,
} from '../tenancy/index.ts';
import { tailEvents } from './events-tail.ts';
import { addKnowledgeCommands } from './knowledge-commands.ts';
import { everyPage, print, printSeed } from './output.ts';
import { serve } from './serve.ts';
import { addTaskCommands } from './task-commands.ts';

interface GlobalOptions {
  url?: string;
  json?: boolean;
}

function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The bare engine, for commands that must work on a database the store would refuse (migrate, rollback). */
async function withEngine<T>(
  options: GlobalOptions,
  work: (engine: Engine, migrator: Migrator) => Promise<T>,
): Promise<T> {
  const engine = await openEngine({ url: options.url, postgres: { max: 2 } });
  try {
    return await work(engine, await Migrator.create(engine));
  } finally {
    await engine.close();
  }
}

async function withStore<T>(
  options: GlobalOptions & { migrate?: boolean },
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore({
    url: options.url,
    migrate: options.migrate ?? false,
    postgres: { max: 4 },
  });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function parseWholeNumber(value: string): number {
  const version = Number(value);
  if (!Number.isInteger(version) || version < 0)
    throw new InvalidArgumentError('a whole number of 0 or more');
  return version;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** What a command reports back besides its output: a non-zero exit code when a check failed. */
interface Outcome {
  exitCode: number;
}

export function buildProgram(outcome: Outcome = { exitCode: 0 }): Command {
  const program = new Command('agentflow')
    .description('AgentFlow DB: the persistence layer for AI-agent platforms')
    .option(
      '--url <url>',
      'database URL (postgres://…, pglite://<dir>, memory://); default DATABASE_URL, else ./.agentflow/',
    )
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    // Usage errors and --help end main() with their exit code instead of exiting the process.
    .exitOverride();

  program
    .command('start')
    .description('migrate the database, seed a demo company if it is empty, and print a status report')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withStore({ ...options, migrate: true }, async (store) => {
        const seeded = await store.asService({ actor: 'cli:start' }, (svc) => svc.tenants.list({ limit: 1 }));
        if (seeded.items.length === 0) {
          const result = await seedDemo(store);
          if (!options.json) printSeed(result);
        }
        const report = await buildStatusReport(store);
        print(options.json ? JSON.stringify(report, null, 2) : formatStatusReport(report));
        if (!report.verify.ok || !report.probe.ok) outcome.exitCode = 1;
      });
    });

  program
    .command('serve')
    .description(
      'serve the HTTP API: migrate, seed the demo into an empty embedded store, listen until SIGINT/SIGTERM',
    )
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option(
      '--port <port>',
      'port to listen on; 0 picks a free one (the printed URL says which)',
      parsePort,
      3000,
    )
    .addOption(
      new Option('--log-level <level>', 'structured log level (JSON lines on stdout)')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .option(
      '--cors-origin <origin>',
      'let browsers on this origin call the API (repeatable); none by default',
      (origin: string, origins: string[]) => [...origins, origin],
      [] as string[],
    )
    .option(
      '--rate-limit <n>',
      `requests per minute per API key or login session (default ${DEFAULT_RATE_LIMIT.limit}; 0 for no limit)`,
      parseWholeNumber,
    )
    .option(
      '--demo-key',
      "also on a server database: issue and print a key of the demo orchestrator (the embedded store's is printed always)",
    )
    .addHelpText(
      'after',
      `
The embedded store (no --url and no DATABASE_URL: ./.agentflow/; or pglite://<dir>, memory://) gets
the demo companies on its first run, and each run prints a fresh API key of the demo agent
${DEMO_TENANTS[0]?.slug}/orion in a ready-to-paste curl; the key the previous run printed is revoked then.
A server database gets neither unless --demo-key (and a seeded demo: agentflow db seed --demo).
On the server engine a statement running over 30 s is cancelled (the request is answered 503).
REDIS_URL selects Redis for rate limits and login sessions; without it they live in this process.`,
    )
    .action(
      async (
        commandOptions: {
          host: string;
          port: number;
          logLevel: string;
          corsOrigin: string[];
          rateLimit?: number;
          demoKey?: boolean;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        await serve({
          url: options.url,
          json: options.json,
          host: commandOptions.host,
          port: commandOptions.port,
          logLevel: commandOptions.logLevel,
          corsOrigins: commandOptions.corsOrigin,
          rateLimit: commandOptions.rateLimit,
          demoKey: commandOptions.demoKey,
        });
      },
    );

  const db = program.command('db').description('schema and data maintenance');

  db.command('migrate')
    .description('apply pending migrations (safe to run from several processes at once)')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withEngine(options, async (_engine, migrator) => {
        const applied = await migrator.migrate();
        const status = await migrator.status();
        if (options.json)
          print(JSON.stringify({ applied: applied.map((m) => m.version), version: status.current }));
        else if (applied.length === 0) print(`already up to date at version ${status.current}`);
        else
          print(
            `applied ${applied.map((m) => `${m.version}_${m.name}`).join(', ')}; now at version ${status.current}`,
          );
      });
    });

  db.command('rollback')
    .description('undo the last migration, or every migration above --to')
    .option('--to <version>', 'the version to end at (0 undoes everything)', parseWholeNumber)
    .option('--force', 'also run down steps that drop tables or columns holding data')
    .action(async (commandOptions: { to?: number; force?: boolean }, command: Command) => {
      const options = globalOptions(command);
      await withEngine(options, async (_engine, migrator) => {
        const undone = await migrator.rollback(commandOptions.to, { force: commandOptions.force });
        const status = await migrator.status();
        if (options.json)
          print(JSON.stringify({ undone: undone.map((m) => m.version), version: status.current }));
        else if (undone.length === 0) print(`nothing to roll back; at version ${status.current}`);
        else
          print(
            `rolled back ${undone.map((m) => `${m.version}_${m.name}`).join(', ')}; now at version ${status.current}`,
          );
      });
    });

  db.command('status')
    .description('show applied and pending migrations')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withEngine(options, async (engine, migrator) => {
        const status = await migrator.status();
        if (options.json) {
          print(
            JSON.stringify({
              ...status,
              pending: status.pending.map((m) => ({ version: m.version, name: m.name })),
            }),
          );
          return;
        }
        print(`engine   ${engine.kind} (${engine.location})`);
        print(`version  ${status.current} of ${status.latest}`);
        for (const m of status.applied)
          print(`  applied  ${m.version}_${m.name}  ${m.appliedAt.toISOString()}`);
        for (const m of status.pending) print(`  pending  ${m.version}_${m.name}`);
        for (const m of status.modified)
          print(`  EDITED   ${m.version}_${m.name} (file differs from what was applied)`);
        for (const m of status.modifiedDown)
          print(`  EDITED   ${m.version}_${m.name} down step (rollback refuses it)`);
      });
    });

  db.command('verify')
    .description(
      'check the live catalog: forced RLS and full policies on tenant tables, unprivileged roles, append-only tables',
    )
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withStore(options, async (store) => {
        const report = await store.verify();
        print(options.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
        if (!report.ok) outcome.exitCode = 1;
      });
    });

  db.command('seed')
    .description('load data')
    .option('--demo', 'two demo companies with owners, projects, files and agent state')
    .action(async (commandOptions: { demo?: boolean }, command: Command) => {
      const options = globalOptions(command);
      if (!commandOptions.demo) throw new ValidationError('say what to seed: --demo');
      await withStore(options, async (store) => {
        const result = await seedDemo(store);
        if (options.json) print(JSON.stringify(result));
        else printSeed(result);
      });
    });

  db.command('retention')
    .description(
      "export every tenant's rows older than its retention setting as JSON lines to --out, then remove them",
    )
    .requiredOption('--out <file.jsonl>', 'file the rows are appended to (created if missing)')
    .action(async (commandOptions: { out: string }, command: Command) => {
      const options = globalOptions(command);
      await withStore(options, async (store) => {
        const report = await exportRetention(store, commandOptions.out);
        if (options.json) print(JSON.stringify(report));
        else {
          const exported = report.results.reduce((sum, r) => sum + r.exported, 0);
          const purged = report.results.reduce((sum, r) => sum + r.purged, 0);
          print(`exported ${exported} rows to ${commandOptions.out}, removed ${purged}`);
          for (const skipped of report.skipped)
            print(`  skipped tenant ${skipped.tenantId}: ${skipped.problem}`);
        }
        if (report.skipped.length > 0) outcome.exitCode = 1;
      });
    });

  const tenant = program.command('tenant').description('tenants (companies)');
  tenant
    .command('create')
    .description('create an active tenant')
    .requiredOption('--slug <slug>', 'unique short name: lowercase letters, digits, hyphens')
    .requiredOption('--name <name>', 'display name')
    .option('--plan <plan>', `one of ${TENANT_PLANS.join(', ')}`, 'free')
    .action(async (commandOptions: { slug: string; name: string; plan: string }, command: Command) => {
      const options = globalOptions(command);
      // The repository's own contract, checked before a database is opened.
      const input = parseInput(
        createTenantSchema,
        { slug: commandOptions.slug, name: commandOptions.name, plan: commandOptions.plan, status: 'active' },
        'tenant',
      );
      await withStore(options, async (store) => {
        const created = await store.asService({ actor: 'cli:tenant create' }, (svc) =>
          svc.tenants.create(input),
        );
        print(options.json ? JSON.stringify(created) : `created tenant ${created.slug} (${created.id})`);
      });
    });

  const user = program.command('user').description('users (global identities)');
  user
    .command('create')
    .description('create a user; --password-stdin reads the password from standard input')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--name <name>', 'display name')
    .option('--password-stdin', 'read the password from standard input (it is stored only as a slow hash)')
    .option('--tenant <slug>', 'also make the user a member of this tenant')
    .option('--role <role>', `membership role: ${MEMBERSHIP_ROLES.join(', ')}`, 'member')
    .action(
      async (
        commandOptions: {
          email: string;
          name: string;
          passwordStdin?: boolean;
          tenant?: string;
          role: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const password = commandOptions.passwordStdin ? await readStdin() : undefined;
        // The repositories' own contracts, checked before a database is opened.
        const input = parseInput(
          createUserSchema,
          { email: commandOptions.email, name: commandOptions.name, password },
          'user',
        );
        const membership = commandOptions.tenant
          ? {
              tenant: parseInput(slugSchema, commandOptions.tenant, 'tenant slug'),
              role: parseInput(membershipRoleSchema, commandOptions.role, 'membership role'),
            }
          : undefined;
        await withStore(options, async (store) => {
          const created = await store.asService({ actor: 'cli:user create' }, async (svc) => {
            const newUser = await svc.users.create(input);
            if (membership) {
              const target = await svc.tenants.getBySlug(membership.tenant);
              await svc.memberships.create(target.id, { userId: newUser.id, role: membership.role });
            }
            return newUser;
          });
          print(options.json ? JSON.stringify(created) : `created user ${created.email} (${created.id})`);
        });
      },
    );

  const agent = program.command('agent').description('agents (the AI staff of a tenant)');
  agent
    .command('create')
    .description('create an agent of a tenant, at the organization level or in --project')
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--code <code>', 'unique code in the tenant: lowercase letters, digits, hyphens')
    .requiredOption('--name <name>', 'display name, unique in its organization or project')
    .requiredOption('--type <type>', `one of ${AGENT_TYPES.join(', ')}`)
    .requiredOption('--role-title <title>', 'job title')
    .option('--project <slug>', 'a project agent of this project (default: organization level)')
    .option('--capability <capability...>', 'a capability tag (repeatable)')
    .option('--model-provider <provider>', 'model provider')
    .option('--model-name <name>', 'model name')
    .action(
      async (
        commandOptions: {
          tenant: string;
          code: string;
          name: string;
          type: string;
          roleTitle: string;
          project?: string;
          capability?: string[];
          modelProvider?: string;
          modelName?: string;
        },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const tenantSlug = parseInput(slugSchema, commandOptions.tenant, 'tenant slug');
        const projectSlug =
          commandOptions.project === undefined
            ? undefined
            : parseInput(slugSchema, commandOptions.project, 'project slug');
        // The repository's own contract, checked before a database is opened (the project comes later).
        const input = parseInput(
          createAgentSchema,
          {
            code: commandOptions.code,
            name: commandOptions.name,
            type: commandOptions.type,
            roleTitle: commandOptions.roleTitle,
            capabilities: commandOptions.capability,
            modelProvider: commandOptions.modelProvider,
            modelName: commandOptions.modelName,
          },
          'agent',
        );
        await withStore(options, async (store) => {
          const created = await store.asService({ actor: 'cli:agent create' }, async (svc) => {
            const target = await svc.tenants.getBySlug(tenantSlug);
            const projectId =
              projectSlug === undefined ? null : (await svc.projects.getBySlug(target.id, projectSlug)).id;
            const agent = await svc.agents.create(target.id, { ...input, projectId });
            // In the same unit: an agent is never left without the key it was created to use.
            return { agent, issued: await svc.agentCredentials.issue(target.id, { agentId: agent.id }) };
          });
          if (options.json) {
            print(
              JSON.stringify({
                ...created.agent,
                key: created.issued.key.reveal(),
                credential: created.issued.credential,
              }),
            );
          } else {
            const { agent } = created;
            print(`created agent ${agent.code} (${agent.id}) in ${tenantSlug}, ${agent.level} level`);
            printKey(options, created.issued);
          }
        });
      },
    );
  agent
    .command('list')
    .description("list a tenant's live agents in code order")
    .requiredOption('--tenant <slug>', 'the tenant')
    .action(async (commandOptions: { tenant: string }, command: Command) => {
      const options = globalOptions(command);
      const tenantSlug = parseInput(slugSchema, commandOptions.tenant, 'tenant slug');
      await withStore(options, async (store) => {
        const all = await store.asService({ actor: 'cli:agent list' }, async (svc) => {
          const tenantId = (await svc.tenants.getBySlug(tenantSlug)).id;
          return everyPage((cursor) => svc.agents.list(tenantId, { limit: MAX_PAGE_LIMIT, cursor }));
        });
        if (options.json) print(JSON.stringify(all));
        else
          for (const a of all)
            print(`${a.code}  ${a.name}  ${a.type}  ${a.level}  ${a.status}  trust ${a.trustScore}`);
      });
    });
  addAgentKeyCommands(agent);
  const readCommands = {
    withStore: <T>(command: Command, work: (store: Store) => Promise<T>) =>
      withStore(globalOptions(command), work),
    json: (command: Command) => globalOptions(command).json === true,
  };
  addTaskCommands(program, readCommands);
  addKnowledgeCommands(program, readCommands);
  program
    .command('events')
    .description('the event timeline')
    .command('tail')
    .description(
      'print the newest events of a tenant, oldest first; --follow keeps printing new ones until Ctrl-C',
    )
    .requiredOption('--tenant <slug>', 'the tenant')
    .option('--project <slug>', 'only this project')
    .option('--limit <n>', 'how many of the newest events to print first (1-1000)', parseLimit, 20)
    .option('--follow', 'poll for new events until interrupted (SIGINT)')
    .action(
      async (
        commandOptions: { tenant: string; project?: string; limit: number; follow?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const tenant = parseInput(slugSchema, commandOptions.tenant, 'tenant slug');
        const project =
          commandOptions.project === undefined
            ? undefined
            : parseInput(slugSchema, commandOptions.project, 'project slug');
        await withStore(options, (store) =>
          tailEvents(
            store,
            {
              tenant,
              limit: commandOptions.limit,
              ...(project ? { project } : {}),
              ...(commandOptions.follow
                ? {
                    follow: {
                      intervalMs: 1000,
                      stop: new Promise((resolve) => process.once('SIGINT', resolve)),
                    },
                  }
                : {}),
            },
            print,
          ),
        );
      },
    );

  return program;
}

/**
 * Runs `work` as the service role (audited as `cli:agent key <verb>`) on the live agent `code` of the
 * tenant `slug`, in one unit of work.
 */
async function onAgent<T>(
  command: Command,
  target: { tenant: string; agent: string },
  verb: string,
  work: (svc: ServiceTx, tenantId: string, agentId: string) => Promise<T>,
): Promise<T> {
  const slug = parseInput(slugSchema, target.tenant, 'tenant slug');
  return withStore(globalOptions(command), (store) =>
    store.asService({ actor: `cli:agent key ${verb}` }, async (svc) => {
      const tenant = await svc.tenants.getBySlug(slug);
      const agent = await svc.agents.getByCode(tenant.id, target.agent);
      return work(svc, tenant.id, agent.id);
    }),
  );
}

/** Prints a key just issued: the one time it is shown. */
function printKey(options: GlobalOptions, issued: IssuedAgentKey): void {
  if (options.json) {
    print(JSON.stringify({ key: issued.key.reveal(), credential: issued.credential }));
    return;
  }
  print(issued.key.reveal());
  process.stderr.write('agentflow: store this key now: it is not shown again (only its hash is kept)\n');
}

/** `agentflow agent key issue|rotate|revoke`: operators' key management. */
function addAgentKeyCommands(agent: Command): void {
  const key = agent.command('key').description("an agent's API keys");
  const forAgent = (name: string, description: string) =>
    key
      .command(name)
      .description(description)
      .requiredOption('--tenant <slug>', 'the tenant')
      .requiredOption('--agent <code>', 'the agent, by its code');

  forAgent('issue', 'issue a new key for the agent (printed once)').action(
    async (target: { tenant: string; agent: string }, command: Command) => {
      const issued = await onAgent(command, target, 'issue', (svc, tenantId, agentId) =>
        svc.agentCredentials.issue(tenantId, { agentId }),
      );
      printKey(globalOptions(command), issued);
    },
  );

  forAgent('rotate', "issue a new key; the agent's current keys expire after the grace period")
    .option(
      '--grace-seconds <seconds>',
      'how long the replaced keys keep working (default 86400)',
      parseWholeNumber,
    )
    .action(async (target: { tenant: string; agent: string; graceSeconds?: number }, command: Command) => {
      const rotated = await onAgent(command, target, 'rotate', (svc, tenantId, agentId) =>
        svc.agentCredentials.rotate(tenantId, { agentId, graceSeconds: target.graceSeconds }),
      );
      const options = globalOptions(command);
      printKey(options, rotated);
      if (!options.json)
        for (const old of rotated.replaced)
          process.stderr.write(
            `agentflow: key ${old.keyPrefix} keeps working until ${old.expiresAt?.toISOString()}\n`,
          );
    });

  forAgent('revoke', "revoke the agent's keys (or one) at once")
    .option('--key-prefix <prefix>', 'only the key with this prefix (afk_<prefix>_…)')
    .action(async (target: { tenant: string; agent: string; keyPrefix?: string }, command: Command) => {
      const keyPrefix =
        target.keyPrefix === undefined
          ? undefined
          : parseInput(keyPrefixSchema, target.keyPrefix, 'key prefix');
      const revoked = await onAgent(command, target, 'revoke', (svc, tenantId, agentId) =>
        svc.agentCredentials.revoke(tenantId, { agentId, keyPrefix }),
      );
      print(
        globalOptions(command).json
          ? JSON.stringify(revoked)
          : `revoked ${revoked.map((c) => c.keyPrefix).join(', ')}`,
      );
    });
}

/**
 * Retention over every tenant, one unit of work per tenant (each commits its removals on its own),
 * appending to `out`: each page is written and synced to disk before its rows are removed. A run
 * cut short leaves the file with rows that may be exported again by the next run, never rows lost.
 */
async function exportRetention(store: Store, out: string): Promise<RetentionReport> {
  const file = await open(out, 'a');
  const report: RetentionReport = { results: [], skipped: [] };
  try {
    const write = async (lines: string) => {
      await file.write(lines);
      await file.sync();
    };
    // Tenants of every status: a suspended or deleted tenant's old rows expire too.
    for (const status of TENANT_STATUSES) {
      let cursor: string | undefined;
      do {
        const page = await store.asService({ actor: 'cli:db retention' }, (svc) =>
          svc.tenants.list({ status, cursor }),
        );
        for (const tenant of page.items) {
          const done = await store.asService({ actor: 'cli:db retention' }, (svc) =>
            svc.retention.exportExpired({ tenantId: tenant.id, write }),
          );
          report.results.push(...done.results);
          report.skipped.push(...done.skipped);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    const orphans = await store.asService({ actor: 'cli:db retention' }, (svc) =>
      svc.retention.exportExpired({ tenantId: NO_TENANT_ID, write }),
    );
    report.results.push(...orphans.results);
  } finally {
    await file.close();
  }
  return report;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('a port number from 0 to 65535');
  return port;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidArgumentError('a whole number from 1 to 1000');
  return limit;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const outcome = { exitCode: 0 };
    await buildProgram(outcome).parseAsync(argv);
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof AgentflowError) {
      process.stderr.write(`agentflow: ${error.message} [${error.code}]\n`);
      return 2;
    }
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
}

/**
 * Whether `moduleUrl` is the script Node was started with. Compared as URLs of real paths: a
 * checkout under a folder with a space or non-ASCII name is percent-encoded in `import.meta.url`.
 */
export function isEntryPoint(moduleUrl: string, scriptPath: string | undefined): boolean {
  if (!scriptPath) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(scriptPath)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint(import.meta.url, process.argv[1])) {
  process.exitCode = await main(process.argv);
}
