import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ServeBanner } from '../../src/cli/serve.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, ownerCount } from '../harness/fixtures.ts';
import { copyPgliteTemplate, type PgliteFolder } from '../harness/pglite-template.ts';
import { agentWithKey } from '../http/api-fixtures.ts';

/** Starting the CLI (tsx compiles it) and a first run's seeding can take a while on a busy machine. */
const START_TIMEOUT_MS = 90_000;

interface ServeProcess {
  child: ChildProcess;
  /** Every stdout line so far (the banner, then pino's JSON log lines). */
  lines: string[];
  /** The text banner's lines up to the curl, or the --json banner. */
  banner: ServeBanner | string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real CLI in a child process of its own, as `agentflow --url <url> serve --port 0 …`, so that
 * signals reach it as they would from a terminal or a process manager. Resolves once it listens.
 */
async function startServe(url: string, ...args: string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--url', url, 'serve', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const lines: string[] = [];
  const json = args.includes('--json');
  const banner = new Promise<ServeBanner | string[]>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start:\n${lines.join('\n')}`)),
      START_TIMEOUT_MS,
    );
    exited.then(({ code }) => reject(new Error(`serve exited (${code}) before listening:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const done = json ? line.includes('"docsUrl"') : line.startsWith('  curl ');
      if (!done) return;
      clearTimeout(timer);
      resolve(json ? (JSON.parse(line) as ServeBanner) : [...lines]);
    });
  });
  try {
    return { child, lines, banner: await banner, exited };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Sends `signal` and waits for the exit, measuring how long the stop took. */
async function stopServe(serve: ServeProcess, signal: NodeJS.Signals) {
  const sent = performance.now();
  serve.child.kill(signal);
  const exit = await serve.exited;
  return { ...exit, ms: performance.now() - sent };
}

const get = (url: string, key: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { authorization: `Bearer ${key}`, ...headers } });

describe('agentflow serve [pglite folder]', () => {
  let folder: PgliteFolder;
  beforeAll(async () => {
    // Its own folder: a PGlite database has one user at a time.
    folder = await copyPgliteTemplate(inject('pgliteTemplateDir'));
  });
  afterAll(() => folder?.remove());

  it(
    'seeds the demo once, prints a working curl with a key per run, revokes the previous run’s, and stops on signal',
    async () => {
      const url = `pglite://${folder.dir}`;
      const first = await startServe(url);
      const text = (first.banner as string[]).join('\n');
      expect(text).toContain('seeded demo tenants: acme-robotics, globex');
      const seedKey = /acme-robotics\/orion {2}(afk_\S+)/.exec(text)?.[1];
      const curl =
        /curl -H "Authorization: Bearer (afk_\S+)" (http:\/\/127\.0\.0\.1:(\d+))\/v1\/projects/.exec(text);
      expect(curl).not.toBeNull();
      const [, firstKey, base, port] = curl!;
      expect(Number(port)).toBeGreaterThan(0);
      expect(text).toContain(`docs     ${base}/docs`);
      expect(firstKey).not.toBe(seedKey);
      const projects = await get(`${base}/v1/projects`, firstKey!);
      expect(projects.status).toBe(200);
      const slugs = ((await projects.json()) as { items: Array<{ slug: string }> }).items.map((p) => p.slug);
      expect(slugs.sort()).toEqual(['customer-portal', 'warehouse-bot']);
      expect((await fetch(`${base}/docs/`)).status).toBe(200);
      expect(await stopServe(first, 'SIGINT')).toMatchObject({ code: 0, signal: null });

      const second = await startServe(url, '--json');
      const banner = second.banner as ServeBanner;
      expect(banner.seeded).toBeNull();
      expect(banner.demoKey).toMatchObject({ tenant: 'acme-robotics', agent: 'orion' });
      expect(banner.demoKey!.key).not.toBe(firstKey);
      expect(banner.curl).toBe(
        `curl -H "Authorization: Bearer ${banner.demoKey!.key}" ${banner.url}/v1/projects`,
      );
      expect((await get(`${banner.url}/v1/projects`, banner.demoKey!.key)).status).toBe(200);
      const revoked = await get(`${banner.url}/v1/projects`, firstKey!);
      expect(revoked.status).toBe(401);
      expect(await revoked.json()).toMatchObject({ type: 'key_revoked' });
      // A key serve did not issue (the seed's) is left alone.
      expect((await get(`${banner.url}/v1/projects`, seedKey!)).status).toBe(200);
      expect(await stopServe(second, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
    },
    4 * START_TIMEOUT_MS,
  );
});

describeEachEngine(
  'agentflow serve',
  (h) => {
    it(
      'on a server store seeds nothing, prints no key, prunes expired idempotency keys, and applies --rate-limit and --cors-origin',
      async () => {
        const { tenant } = await createTenant(h.store);
        const agent = await agentWithKey(h.store, tenant.id);
        await h.asOwner((c) =>
          c.query(
            `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, created_at)
           VALUES ($1, 'old', repeat('a', 64), 201, now() - interval '25 hours'),
                  ($1, 'fresh', repeat('b', 64), 201, now())`,
            [tenant.id],
          ),
        );
        const serve = await startServe(
          h.url,
          '--json',
          '--rate-limit',
          '2',
          '--cors-origin',
          'https://app.example',
        );
        try {
          const banner = serve.banner as ServeBanner;
          expect(banner).toMatchObject({ demoKey: null, seeded: null, docsUrl: `${banner.url}/docs` });
          expect(banner.curl).toContain('Bearer $AGENTFLOW_KEY');
          expect(serve.lines.join('\n')).not.toContain('afk_');
          expect(await ownerCount(h, "tenants WHERE slug = 'acme-robotics'")).toBe(0);
          expect(await ownerCount(h, 'idempotency_keys WHERE tenant_id = $1', [tenant.id])).toBe(1);

          const statuses: number[] = [];
          for (let i = 0; i < 3; i++)
            statuses.push((await get(`${banner.url}/v1/projects`, agent.key)).status);
          expect(statuses).toEqual([200, 200, 429]);
          const preflight = (origin: string) =>
            fetch(`${banner.url}/v1/projects`, {
              method: 'OPTIONS',
              headers: { origin, 'access-control-request-method': 'POST' },
            });
          expect((await preflight('https://app.example')).headers.get('access-control-allow-origin')).toBe(
            'https://app.example',
          );
          expect(
            (await preflight('https://evil.example')).headers.get('access-control-allow-origin'),
          ).toBeNull();
        } finally {
          expect(await stopServe(serve, 'SIGTERM')).toMatchObject({ code: 0, signal: null });
        }
      },
      2 * START_TIMEOUT_MS,
    );

    it(
      'stops on SIGTERM mid-stream: every request it began is answered 2xx, every 2xx is stored, exit 0 promptly',
      async () => {
        const { tenant } = await createTenant(h.store);
        const agent = await agentWithKey(h.store, tenant.id);
        const serve = await startServe(h.url, '--json');
        const { url } = serve.banner as ServeBanner;
        const acknowledged: string[] = [];
        let sent = 0;
        let signalled: Promise<Awaited<ReturnType<typeof stopServe>>> | undefined;
        // Ten clients POST one after another until the server stops answering them.
        const client = async (n: number) => {
          for (let i = 0; ; i++) {
            const slug = `g-${n}-${i}`;
            sent++;
            try {
              const response = await fetch(`${url}/v1/projects`, {
                method: 'POST',
                headers: {
                  authorization: `Bearer ${agent.key}`,
                  'content-type': 'application/json',
                  'x-request-id': slug,
                },
                body: JSON.stringify({ slug, name: slug }),
              });
              await response.arrayBuffer();
              if (response.status !== 201) return;
              acknowledged.push(slug);
            } catch {
              return; // refused or reset: the server is gone
            }
            if (acknowledged.length >= 60 && !signalled) signalled = stopServe(serve, 'SIGTERM');
          }
        };
        await Promise.all(Array.from({ length: 10 }, (_, n) => client(n)));
        expect(signalled).toBeDefined();
        const stop = await signalled!;
        expect(stop).toMatchObject({ code: 0, signal: null });
        expect(stop.ms).toBeLessThan(10_000);
        expect(sent).toBeGreaterThan(acknowledged.length);

        // Nothing acknowledged is lost.
        expect(
          await ownerCount(h, 'projects WHERE tenant_id = $1 AND slug = ANY($2)', [tenant.id, acknowledged]),
        ).toBe(acknowledged.length);
        // Every request the server began before the signal was finished, successfully, after it.
        const logs = serve.lines
          .filter((line) => line.startsWith('{"level"'))
          .map((line) => JSON.parse(line));
        const stopping = logs.findIndex((log) => log.msg === 'stopping: finishing in-flight requests');
        expect(stopping).toBeGreaterThan(0);
        const begun = logs.slice(0, stopping).filter((log) => log.msg === 'incoming request');
        const completed = new Map<string, number>(
          logs.filter((log) => log.msg === 'request completed').map((log) => [log.reqId, log.res.statusCode]),
        );
        for (const log of begun) expect(completed.get(log.reqId), log.reqId).toBe(201);
        const inFlight = logs
          .slice(stopping)
          .filter((log) => log.msg === 'request completed' && begun.some((b) => b.reqId === log.reqId));
        expect(inFlight.length).toBeGreaterThan(0);
      },
      2 * START_TIMEOUT_MS,
    );
  },
  'server',
);
