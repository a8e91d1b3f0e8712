import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/http/openapi.ts';
import { apiRoutes } from '../../src/http/routes.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { ownerCount } from '../harness/fixtures.ts';
import { type ApiHarness, call, json, startApi, tenantWithAgent } from './api-fixtures.ts';

describeEachEngine('HTTP API: project files', (h) => {
  let api: ApiHarness;
  let a: Awaited<ReturnType<typeof tenantWithAgent>>;
  let b: Awaited<ReturnType<typeof tenantWithAgent>>;
  let project: string;
  let otherProject: string;
  const fileUrl = (projectId: string, path: string) =>
    `/v1/projects/${projectId}/file?path=${encodeURIComponent(path)}`;
  const filesOf = (projectId: string) => ownerCount(h, 'project_files WHERE project_id = $1', [projectId]);
  beforeAll(async () => {
    api = await startApi(h.store);
    a = await tenantWithAgent(h.store);
    b = await tenantWithAgent(h.store);
    project = (await h.store.withTenant(a.context, (tx) => tx.projects.create({ slug: 'web', name: 'Web' })))
      .id;
    otherProject = (
      await h.store.withTenant(b.context, (tx) => tx.projects.create({ slug: 'web', name: 'Web' }))
    ).id;
    await h.store.withTenant(b.context, (tx) =>
      tx.projectFiles.upsert({ projectId: otherProject, path: 'secret.txt', content: 'b' }),
    );
  });
  afterAll(() => api?.close());

  it('writes, reads, replaces and deletes a file named by its path with slashes', async () => {
    const put = await call(api.app, 'PUT', fileUrl(project, 'src/lib/a.ts'), {
      key: a.agent.key,
      body: { content: 'export {};' },
    });
    expect(put.statusCode).toBe(200);
    expect(json(put)).toMatchObject({ projectId: project, path: 'src/lib/a.ts', sizeBytes: 10 });
    // A slash needs no encoding in a query: what curl users type works as well.
    const read = await call(api.app, 'GET', `/v1/projects/${project}/file?path=src/lib/a.ts`, {
      key: a.agent.key,
    });
    expect(read.statusCode).toBe(200);
    expect(json(read).content).toBe('export {};');
    await call(api.app, 'PUT', fileUrl(project, 'src/lib/a.ts'), {
      key: a.agent.key,
      body: { content: 'x' },
    });
    expect(
      (await h.store.withTenant(a.context, (tx) => tx.projectFiles.get(project, 'src/lib/a.ts'))).content,
    ).toBe('x');
    const removed = await call(api.app, 'DELETE', fileUrl(project, 'src/lib/a.ts'), { key: a.agent.key });
    expect(removed.statusCode).toBe(204);
    expect(await filesOf(project)).toBe(0);
    expect(
      (await call(api.app, 'GET', fileUrl(project, 'src/lib/a.ts'), { key: a.agent.key })).statusCode,
    ).toBe(404);
  });

  it('lists summaries without content, page by page and under a folder', async () => {
    for (const path of ['docs/x.md', 'src/a.ts', 'src/b.ts'])
      await call(api.app, 'PUT', fileUrl(project, path), { key: a.agent.key, body: { content: path } });
    const first = json<{ items: Array<Record<string, unknown>>; nextCursor: string }>(
      await call(api.app, 'GET', `/v1/projects/${project}/files?limit=2`, { key: a.agent.key }),
    );
    expect(first.items.map((f) => f.path)).toEqual(['docs/x.md', 'src/a.ts']);
    expect(first.items[0]).not.toHaveProperty('content');
    const second = json(
      await call(api.app, 'GET', `/v1/projects/${project}/files?limit=2&cursor=${first.nextCursor}`, {
        key: a.agent.key,
      }),
    );
    expect(second).toMatchObject({ items: [{ path: 'src/b.ts' }], nextCursor: null });
    const under = json<{ items: Array<{ path: string }> }>(
      await call(api.app, 'GET', `/v1/projects/${project}/files?under=src`, { key: a.agent.key }),
    );
    expect(under.items.map((f) => f.path)).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('refuses `..` in a path, raw, percent-encoded or encoded twice, with a 422 naming `path`', async () => {
    const before = await filesOf(project);
    for (const query of ['../escape', '%2e%2e/escape', 'src/%252e%252e/escape', 'src/%EF%BC%8E%EF%BC%8E/x']) {
      const url = `/v1/projects/${project}/file?path=${query}`;
      const put = await call(api.app, 'PUT', url, { key: a.agent.key, body: { content: 'x' } });
      expect(put.statusCode, query).toBe(422);
      expect(json(put)).toMatchObject({ type: 'validation_failed', errors: [{ path: 'path' }] });
      expect((await call(api.app, 'GET', url, { key: a.agent.key })).statusCode, query).toBe(422);
    }
    const bad = await call(api.app, 'PUT', fileUrl(project, 'ok.txt'), {
      key: a.agent.key,
      body: { content: 1 },
    });
    expect(bad.statusCode).toBe(422);
    expect(json(bad)).toMatchObject({ errors: [{ path: 'content' }] });
    expect(await filesOf(project)).toBe(before);
  });

  it('answers 404 for another tenant’s project and writes nothing', async () => {
    const before = await ownerCount(h, 'project_files');
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const response = await call(api.app, method, fileUrl(otherProject, 'secret.txt'), {
        key: a.agent.key,
        ...(method === 'PUT' ? { body: { content: 'mine' } } : {}),
      });
      expect(response.statusCode, method).toBe(404);
    }
    const list = await call(api.app, 'GET', `/v1/projects/${otherProject}/files`, { key: a.agent.key });
    expect(json(list)).toEqual({ items: [], nextCursor: null });
    expect(await ownerCount(h, 'project_files')).toBe(before);
    expect(await ownerCount(h, "project_files WHERE content = 'b'")).toBe(1);
  });

  it('replaces under If-Match only the version read', async () => {
    const url = fileUrl(project, 'docs/x.md');
    const etag = (await call(api.app, 'GET', url, { key: a.agent.key })).headers.etag as string;
    const next = await call(api.app, 'PUT', url, {
      key: a.agent.key,
      body: { content: 'v2' },
      headers: { 'if-match': etag },
    });
    expect(next.statusCode).toBe(200);
    const stale = await call(api.app, 'PUT', url, {
      key: a.agent.key,
      body: { content: 'v3' },
      headers: { 'if-match': etag },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ type: 'precondition_failed' });
    expect(
      (await h.store.withTenant(a.context, (tx) => tx.projectFiles.get(project, 'docs/x.md'))).content,
    ).toBe('v2');
    // The PUT's own ETag is the new version's: a client can chain writes without reading.
    const chained = await call(api.app, 'PUT', url, {
      key: a.agent.key,
      body: { content: 'v3' },
      headers: { 'if-match': next.headers.etag as string },
    });
    expect(chained.statusCode).toBe(200);
  });
});

// The document depends on the routes only: built once, with no engine.
it('documents one file by a `path` query parameter in a valid OpenAPI document', async () => {
  const document = buildOpenApiDocument(apiRoutes, {
    title: 'AgentFlow DB API',
    version: '1',
    description: '',
  });
  expect(await new Validator().validate(document as never)).toMatchObject({ valid: true });
  const paths = document.paths as Record<
    string,
    Record<string, { parameters: Array<{ name: string; in: string }> }>
  >;
  for (const method of ['get', 'put', 'delete'])
    expect(paths['/v1/projects/{projectId}/file']?.[method]?.parameters).toContainEqual(
      expect.objectContaining({ name: 'path', in: 'query', required: true }),
    );
});
