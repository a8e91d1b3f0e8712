import { randomBytes, randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { buildOpenApiDocument, openApiPath } from '../../src/http/openapi.ts';
import type { ApiRoute } from '../../src/http/route.ts';
import { apiRoutes, INTERNAL_OPERATIONS } from '../../src/http/routes.ts';
import { registry } from '../../src/store/registry.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { createTenant } from '../harness/fixtures.ts';
import {
  type AgentWithKey,
  type ApiHarness,
  agentWithKey,
  call,
  freshAddress,
  json,
  startApi,
} from './api-fixtures.ts';

const guarded = apiRoutes.filter((route) => route.kind !== 'public');

/** A value each path parameter's schema takes: an id, a slug, a number. */
const PARAM_CANDIDATES = [() => randomUUID(), () => `s-${randomBytes(3).toString('hex')}`, () => '1'];

/** A URL that reaches `route`, its path parameters filled with values its schema accepts. */
function urlOf(route: ApiRoute): string {
  const shape = (route.params?.shape ?? {}) as Record<string, z.ZodType>;
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const schema = shape[name];
    if (!schema) throw new Error(`${route.operationId}: path parameter ${name} has no schema`);
    const value = PARAM_CANDIDATES.map((make) => make()).find((v) => schema.safeParse(v).success);
    if (value === undefined)
      throw new Error(`${route.operationId}: no test value fits path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** Rows that any request could write: none of them may appear for a refused credential. */
async function writtenRows(h: EngineHarness) {
  const [row] = await h.asOwner((c) =>
    c.query<{ audit: number; events: number; idempotency: number }>(
      `SELECT (SELECT count(*) FROM audit_logs)::int AS audit, (SELECT count(*) FROM events)::int AS events,
              (SELECT count(*) FROM idempotency_keys)::int AS idempotency`,
    ),
  );
  return row;
}

// A key prefix may fail verification 30 times a minute before it is rate limited (429, not 401):
// each revoked or expired key is used for at most this many routes.
const ROUTES_PER_KEY = 25;

describeEachEngine('HTTP API: every route refuses a missing or bad credential', (h) => {
  let api: ApiHarness;
  const revoked: AgentWithKey[] = [];
  const expired: AgentWithKey[] = [];
  beforeAll(async () => {
    api = await startApi(h.store);
    const { tenant } = await createTenant(h.store);
    for (let i = 0; i < Math.ceil(guarded.length / ROUTES_PER_KEY); i++) {
      const [r, e] = [await agentWithKey(h.store, tenant.id), await agentWithKey(h.store, tenant.id)];
      await h.asOwner(async (c) => {
        await c.query('UPDATE agent_credentials SET revoked_at = now() WHERE id = $1', [r.credentialId]);
        await c.query(`UPDATE agent_credentials SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
          e.credentialId,
        ]);
      });
      revoked.push(r);
      expired.push(e);
    }
  });
  afterAll(() => api?.close());

  it('covers at least the routes on main', () => {
    expect(guarded.map((route) => route.operationId)).toEqual(
      expect.arrayContaining(['projects.create', 'projects.get', 'auth.logout', 'auth.whoami']),
    );
  });

  guarded.forEach((route, index) => {
    it(`${route.method} ${route.path}`, async () => {
      const url = urlOf(route);
      const credentials: Array<[string, string | undefined, string]> = [
        ['no Authorization', undefined, 'missing_credentials'],
        ['a malformed key', 'afk_not-a-key', 'invalid_key'],
        [
          'an unknown key',
          `afk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`,
          'invalid_key',
        ],
        ['a revoked key', revoked[Math.floor(index / ROUTES_PER_KEY)]!.key, 'key_revoked'],
        ['an expired key', expired[Math.floor(index / ROUTES_PER_KEY)]!.key, 'key_expired'],
      ];
      const before = await writtenRows(h);
      const remoteAddress = freshAddress();
      for (const [what, key, type] of credentials) {
        const response = await call(api.app, route.method, url, {
          ...(key ? { key } : {}),
          ...(route.body ? { body: {} } : {}),
          headers: route.method === 'POST' ? { 'idempotency-key': `k-${index}` } : {},
          remoteAddress,
        });
        expect(response.statusCode, what).toBe(401);
        expect(response.headers['content-type'], what).toMatch(/^application\/problem\+json/);
        expect(response.headers['www-authenticate'], what).toMatch(/^Bearer /);
        expect(json(response), what).toMatchObject({ type, status: 401 });
      }
      expect(await writtenRows(h)).toEqual(before);
    });
  });
});

/** The tenant repository functions, as `covers` names them: `projects.create`. */
function tenantFunctions(): string[] {
  return Object.entries(registry).flatMap(([name, entry]) =>
    'tenant' in entry ? Object.keys(entry.tenant).map((fn) => `${name}.${fn}`) : [],
  );
}

/**
 * What keeps the API from falling behind the repositories: tenant functions with neither a route
 * nor a reason to have none, names in `covers` or INTERNAL_OPERATIONS that are no function, and
 * functions that are both covered and declared internal.
 */
function coverageProblems(routes: readonly ApiRoute[], internal: Readonly<Record<string, string>>) {
  const functions = new Set(tenantFunctions());
  const covered = new Map<string, string[]>();
  for (const route of routes)
    for (const name of route.kind === 'public' ? [] : (route.covers ?? []))
      covered.set(name, [...(covered.get(name) ?? []), route.operationId]);
  return {
    uncovered: [...functions].filter((name) => !covered.has(name) && !(name in internal)),
    unknown: [
      ...[...covered]
        .filter(([name]) => !functions.has(name))
        .map(([name, by]) => `${name} (covers of ${by})`),
      ...Object.keys(internal)
        .filter((name) => !functions.has(name))
        .map((name) => `${name} (INTERNAL_OPERATIONS)`),
    ],
    both: [...covered.keys()].filter((name) => name in internal),
  };
}

describe('HTTP API: every tenant repository function has a route', () => {
  it('lists no function without a route that is not declared internal', () => {
    const { uncovered } = coverageProblems(apiRoutes, INTERNAL_OPERATIONS);
    expect(
      uncovered,
      `tenant repository functions with no route: add a route whose covers names each, or list it in INTERNAL_OPERATIONS with the reason`,
    ).toEqual([]);
  });

  it('names only functions that exist, and none both covered and internal', () => {
    const { unknown, both } = coverageProblems(apiRoutes, INTERNAL_OPERATIONS);
    expect(unknown, 'names in covers or INTERNAL_OPERATIONS that are no tenant repository function').toEqual(
      [],
    );
    expect(both, 'functions with a route that are also declared internal').toEqual([]);
  });

  it('catches a route taken away, a misspelt covers, and a stale internal entry', () => {
    const projectsGet = apiRoutes.find((route) => route.operationId === 'projects.get')!;
    const misspelt = { ...projectsGet, operationId: 'projects.got', covers: ['projects.got'] } as ApiRoute;
    const problems = coverageProblems([...apiRoutes.filter((route) => route !== projectsGet), misspelt], {
      ...INTERNAL_OPERATIONS,
      'projects.vanished': 'gone',
      'projects.list': 'not really',
    });
    expect(problems.uncovered).toContain('projects.get');
    expect(problems.unknown).toEqual(
      expect.arrayContaining([
        'projects.got (covers of projects.got)',
        'projects.vanished (INTERNAL_OPERATIONS)',
      ]),
    );
    expect(problems.both).toEqual(['projects.list']);
  });
});

type Operations = Record<string, Record<string, { operationId?: string }>>;

/** The routes that have no operation (method and path) with their operationId in `document`. */
function missingFromDocument(document: { paths?: Operations }, routes: readonly ApiRoute[]): string[] {
  return routes
    .filter(
      (route) =>
        document.paths?.[openApiPath(route.path)]?.[route.method.toLowerCase()]?.operationId !==
        route.operationId,
    )
    .map((route) => `${route.method} ${route.path} (${route.operationId})`);
}

describeEachEngine('HTTP API: the OpenAPI document and reference page', (h) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi(h.store);
  });
  afterAll(() => api?.close());

  it('serves an OpenAPI 3.1 document that validates, with one operation per route', async () => {
    const response = await call(api.app, 'GET', '/openapi.json');
    expect(response.statusCode).toBe(200);
    const document = json<{ openapi: string; paths: Operations }>(response);
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(missingFromDocument(document, apiRoutes)).toEqual([]);
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    expect(operations).toHaveLength(apiRoutes.length);
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('notices a route missing from the document', () => {
    const dropped = apiRoutes.find((route) => route.operationId === 'projects.update')!;
    const document = buildOpenApiDocument(
      apiRoutes.filter((route) => route !== dropped),
      { title: 't', version: '1', description: 'd' },
    ) as { paths: Operations };
    expect(missingFromDocument(document, apiRoutes)).toEqual([
      'PATCH /v1/projects/:projectId (projects.update)',
    ]);
  });

  it('serves the interactive reference page at /docs', async () => {
    let response = await call(api.app, 'GET', '/docs');
    if (response.statusCode >= 300 && response.statusCode < 400)
      response = await call(
        api.app,
        'GET',
        new URL(String(response.headers.location), 'http://x/docs').pathname,
      );
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/swagger-ui/i);
  });
});
