import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { HarnessSetupError } from '../harness/setup-error.ts';

/** A key prefix of its own per test run, so parallel runs on one Redis never collide. */
export function uniquePrefix(label: string): string {
  return `agentflow-test.${label}.${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Answers PING within the timeout? Raw RESP over a socket: no client, no reconnect loop. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export function findRedisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/**
 * A throwaway redis-server child process (no persistence) that tests may kill, pause and
 * restart without touching anybody else's Redis.
 */
export class RedisServerProcess {
  readonly url: string;
  #child: ChildProcess | undefined;

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(binary: string): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(binary, await freePort());
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const child = spawn(
      this.binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    // redis-server writes why it stopped to stdout: kept for the error below.
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 5000;
    while (!(await pingRedis('127.0.0.1', this.port, 200))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new HarnessSetupError({
          what: `starting ${this.binary} on port ${this.port} for the Redis suites`,
          cause:
            child.exitCode !== null
              ? `it exited with ${child.exitCode}: ${log.trim()}`
              : 'no answer to PING within 5 s',
          todo: 'set REDIS_URL to a Redis server you run, or start one on 127.0.0.1:6379',
        });
      }
      await sleep(20);
    }
  }

  /** Kills the server as a crash would (SIGKILL) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the server: connections stay open, nothing answers. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}

export type RedisTarget =
  | { url: string; origin: string; stop(): Promise<void> }
  | { url: undefined; skipReason: string };

/**
 * The Redis the adapter tests run against: REDIS_URL, else a server on 127.0.0.1:6379, else
 * one started from a redis-server binary on the PATH, else none (with the reason).
 */
export async function resolveRedis(): Promise<RedisTarget> {
  const nothingToStop = async () => {};
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, origin: 'REDIS_URL', stop: nothingToStop };
  if (await pingRedis('127.0.0.1', 6379)) {
    return { url: 'redis://127.0.0.1:6379', origin: 'local server on 127.0.0.1:6379', stop: nothingToStop };
  }
  const binary = findRedisServerBinary();
  if (!binary) {
    return {
      url: undefined,
      skipReason: 'no REDIS_URL, nothing on 127.0.0.1:6379 and no redis-server binary on the PATH',
    };
  }
  const server = await RedisServerProcess.start(binary);
  return {
    url: server.url,
    origin: `redis-server started by the tests on ${server.url}`,
    stop: () => server.stop(),
  };
}

/** Removes every key under a test prefix (SCAN, never KEYS). */
export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<number> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  let deleted = 0;
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
      if (keys.length > 0) deleted += await client.unlink(keys);
    }
  } finally {
    await client.close();
  }
  return deleted;
}
