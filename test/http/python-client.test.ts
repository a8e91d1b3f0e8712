import { execFile, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { createTenant, ownerCount } from '../harness/fixtures.ts';
import { type AgentWithKey, type ApiHarness, agentWithKey, startApi } from './api-fixtures.ts';

const python = spawnSync('python3', ['--version']);
const noPython = python.error || python.status !== 0 ? 'python3 is not installed (or does not run)' : null;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `python3 examples/python/agent.py` as a new user runs it, against `api`. Asynchronous: the API answers it from this process. */
function runAgent(api: string, key: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      ['examples/python/agent.py'],
      { env: { PATH: process.env.PATH, AGENTFLOW_API: api, AGENTFLOW_KEY: key }, timeout: 60_000 },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}

/** The API over `store` (`prepare`d before it starts) on a free port of 127.0.0.1, and its base URL. */
async function listening(
  store: Store,
  options: Parameters<typeof startApi>[1] = {},
  prepare: (app: FastifyInstance) => unknown = () => {},
) {
  const api = await startApi(store, options);
  prepare(api.app);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  return { api, url: `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}` };
}

if (noPython) describe.skip(`the Python client example (skipped: ${noPython})`, () => {});
else
  describeEachEngine('the Python client example', (h) => {
    let server: { api: ApiHarness; url: string };
    let tenantId: string;
    let agent: AgentWithKey;
    beforeAll(async () => {
      server = await listening(h.store);
      tenantId = (await createTenant(h.store)).tenant.id;
      agent = await agentWithKey(h.store, tenantId);
      await h.store.withTenant({ tenantId, actor: { type: 'agent', id: agent.agentId } }, (tx) =>
        tx.projects.create({ slug: 'py', name: 'Python project' }),
      );
    });
    afterAll(() => server?.api.close());

    /** The work the script did, as stored: its session and the session's events by type. */
    async function stored(run: Run) {
      const sessionId = /opened work session ([0-9a-f-]{36})/.exec(run.out)?.[1];
      expect(sessionId, run.out + run.err).toBeDefined();
      const count = (where: string) =>
        ownerCount(h, `events WHERE tenant_id = $1 AND session_id = $2 AND ${where}`, [tenantId, sessionId]);
      return {
        sessionId,
        stopped: await ownerCount(
          h,
          "work_sessions WHERE tenant_id = $1 AND id = $2 AND agent_id = $3 AND status = 'stopped'",
          [tenantId, sessionId, agent.agentId],
        ),
        logs: await count(`type = 'session_log'`),
        questions: await count(`type = 'question_asked'`),
        problems: await count(`type = 'problem_report'`),
      };
    }

    it('authenticates, opens a session, appends events, pages the timeline and stops, all stored', async () => {
      const keysBefore = await ownerCount(h, 'idempotency_keys WHERE tenant_id = $1', [tenantId]);
      const run = await runAgent(server.url, agent.key);
      expect(run, run.err).toMatchObject({ code: 0 });
      expect(run.out).toContain(`whoami: agent agent:${agent.agentId} of tenant ${tenantId}`);
      expect(await stored(run)).toMatchObject({ stopped: 1, logs: 2, questions: 1, problems: 1 });
      // session_start and four events, two a page.
      expect(run.out.match(/^timeline page \d+:/gm)).toHaveLength(3);
      // Every POST (session, event, batch, stop) carried an Idempotency-Key.
      expect(await ownerCount(h, 'idempotency_keys WHERE tenant_id = $1', [tenantId])).toBe(keysBefore + 4);
    });

    it('retries once after a 429 and after a 503, honouring Retry-After, and writes once', async () => {
      // The first GET /v1/projects is refused with 429; the first POST /v1/events is committed and
      // then answered 503, as if the response were lost: the retry must replay it, not write again.
      const refused = new Map<string, number>();
      const retried = new Map<string, number>();
      const flaky = await listening(h.store, {}, (app) =>
        app.addHook('onSend', async (request, reply, payload) => {
          const route = `${request.method} ${request.url.split('?')[0]}`;
          if (route !== 'GET /v1/projects' && route !== 'POST /v1/events') return payload;
          if (refused.has(route)) {
            if (!retried.has(route)) retried.set(route, performance.now());
            return payload;
          }
          refused.set(route, performance.now());
          const status = route === 'GET /v1/projects' ? 429 : 503;
          reply.code(status).header('retry-after', '1').type('application/problem+json');
          return JSON.stringify({
            type: status === 429 ? 'rate_limited' : 'timeout',
            status,
            detail: 'test',
          });
        }),
      );
      try {
        const run = await runAgent(flaky.url, agent.key);
        expect(run, run.err).toMatchObject({ code: 0 });
        expect(run.out).toMatch(/GET \/v1\/projects answered 429: retrying once in 1 s/);
        expect(run.out).toMatch(/POST \/v1\/events answered 503: retrying once in 1 s/);
        for (const [route, at] of refused) expect(retried.get(route)! - at, route).toBeGreaterThan(950);
        expect(await stored(run)).toMatchObject({ stopped: 1, logs: 2, questions: 1, problems: 1 });
      } finally {
        await flaky.api.close();
      }
    });

    it('prints the problem type and detail of an error and exits 1', async () => {
      const run = await runAgent(server.url, `${agent.key.slice(0, -4)}AAAA`);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/^error 401 invalid_key: invalid API key/m);
    });
  });
