import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './server.ts';

export interface PgBouncer {
  /** `url` (a database on the server behind it) with its host and port replaced by PgBouncer's. */
  url(serverUrl: string): string;
  /** PgBouncer's version line, for the test report. */
  readonly version: string;
  stop(): Promise<void>;
}

/** Where the binary is: PGBOUNCER, else the PATH, else Debian's /usr/sbin (not on a user's PATH). */
export function findPgBouncerBinary(): string | undefined {
  const candidates = [
    process.env.PGBOUNCER,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'pgbouncer')),
    '/usr/sbin/pgbouncer',
  ];
  return candidates.find((candidate) => {
    if (!candidate) return false;
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(output));
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;

/**
 * Starts PgBouncer in transaction mode in front of the server that `serverUrl` (a superuser URL
 * with a password) points at, on a free port, with its files in a temporary folder; every
 * database is passed through and the URL's user is the only one it knows. `poolSize` server
 * connections per database (1 makes every client's transactions share one server connection). Returns the reason
 * instead when there is no pgbouncer binary. PgBouncer refuses to run as root: then it runs as
 * `nobody` (its -u option), which only needs to read the folder.
 */
export async function startPgBouncer(
  serverUrl: string,
  { poolSize = 20 }: { poolSize?: number } = {},
): Promise<PgBouncer | { skip: string }> {
  const binary = findPgBouncerBinary();
  if (!binary)
    return { skip: 'no pgbouncer binary (PGBOUNCER, PATH or /usr/sbin; Debian package pgbouncer)' };
  const version = (await run(binary, ['--version'])).split('\n')[0] ?? 'PgBouncer';
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const dir = await mkdtemp(join(tmpdir(), 'agentflow-pgbouncer-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  const users = join(dir, 'users.txt');
  const config = join(dir, 'pgbouncer.ini');
  await writeFile(users, `${quote(user)} ${quote(password)}\n`, { mode: 0o644 });
  await writeFile(
    config,
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${poolSize}`,
      // postgres.js sends these at start-up; PgBouncer refuses parameters it does not track.
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(binary, [...(asRoot ? ['-u', 'nobody'] : []), config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100 && !(await portOpen(port)); attempt++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  if (!(await portOpen(port))) {
    await stop();
    throw new Error(`pgbouncer did not start on port ${port}:\n${log}`);
  }
  return {
    version,
    url(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stop,
  };
}
