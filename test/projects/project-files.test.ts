import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type TenantTx, ValidationError } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

const sha256 = (content: string) => createHash('sha256').update(content, 'utf8').digest('hex');

interface FileRow {
  id: string;
  path: string;
  content: string;
  content_hash: string;
  size_bytes: number;
}

async function fileRows(h: EngineHarness, projectId: string): Promise<FileRow[]> {
  return h.asOwner((c) =>
    c.query<FileRow>(
      'SELECT id, path, content, content_hash, size_bytes FROM project_files WHERE project_id = $1 ORDER BY path',
      [projectId],
    ),
  );
}

describeEachEngine('project files', (h) => {
  let f: TenantFixture;
  let projectId: string;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  let slugCounter = 0;
  const newProject = () =>
    inTenant((tx) => tx.projects.create({ slug: `files-${++slugCounter}`, name: 'Files' }));

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = (await newProject()).id;
  });

  it('creates a file, then replaces it in place, with hash and byte size computed by the database', async () => {
    const first = 'hello\n';
    const created = await inTenant((tx) =>
      tx.projectFiles.upsert({ projectId, path: 'docs/readme.md', content: first }),
    );
    expect(created).toMatchObject({
      tenantId: f.tenant.id,
      projectId,
      path: 'docs/readme.md',
      content: first,
      contentHash: sha256(first),
      sizeBytes: 6,
    });

    const second = 'héllo wörld 🌍 日本語\n';
    const secondBytes = Buffer.byteLength(second, 'utf8');
    expect(secondBytes).toBeGreaterThan(second.length);
    const replaced = await inTenant((tx) =>
      tx.projectFiles.upsert({ projectId, path: 'docs/readme.md', content: second }),
    );
    expect(replaced.id).toBe(created.id);
    expect(replaced.createdAt.getTime()).toBe(created.createdAt.getTime());
    expect(replaced.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(replaced).toMatchObject({ content: second, contentHash: sha256(second), sizeBytes: secondBytes });

    const rows = (await fileRows(h, projectId)).filter((r) => r.path === 'docs/readme.md');
    expect(rows).toEqual([
      {
        id: created.id,
        path: 'docs/readme.md',
        content: second,
        content_hash: sha256(second),
        size_bytes: secondBytes,
      },
    ]);
    const read = await inTenant((tx) => tx.projectFiles.get(projectId, 'docs/readme.md'));
    expect(read.content).toBe(second);
    expect(read.contentHash).toBe(sha256(second));
  });

  it('stores an empty file', async () => {
    const empty = await inTenant((tx) => tx.projectFiles.upsert({ projectId, path: 'empty', content: '' }));
    expect(empty).toMatchObject({ sizeBytes: 0, contentHash: sha256('') });
  });

  it('keeps (project, path) unique: the same path in another project is another file', async () => {
    const other = await newProject();
    const a = await inTenant((tx) => tx.projectFiles.upsert({ projectId, path: 'shared.txt', content: 'a' }));
    const b = await inTenant((tx) =>
      tx.projectFiles.upsert({ projectId: other.id, path: 'shared.txt', content: 'b' }),
    );
    expect(b.id).not.toBe(a.id);
    expect((await inTenant((tx) => tx.projectFiles.get(projectId, 'shared.txt'))).content).toBe('a');
    // The database itself refuses a second row for the same (project, path).
    const error = await caught(
      inTenant((tx) =>
        tx.query(`INSERT INTO project_files (project_id, path, content) VALUES ($1, 'shared.txt', 'dup')`, [
          projectId,
        ]),
      ),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((await fileRows(h, projectId)).filter((r) => r.path === 'shared.txt')).toHaveLength(1);
  });

  it('lists summaries in path order, optionally under a folder, without content', async () => {
    const project = await newProject();
    const paths = ['src/z.ts', 'README.md', 'src/lib/a.ts', 'srcx/b.ts', 'src/a.ts', 'a_b/x', 'axb/y', 'src'];
    await inTenant(async (tx) => {
      for (const path of paths) await tx.projectFiles.upsert({ projectId: project.id, path, content: path });
    });
    const { items: all, nextCursor } = await inTenant((tx) => tx.projectFiles.list(project.id));
    expect(nextCursor).toBeNull();
    expect(all.map((file) => file.path)).toEqual([...paths].sort());
    for (const file of all) {
      expect(Object.keys(file)).not.toContain('content');
      expect(file.contentHash).toBe(sha256(file.path));
      expect(file.sizeBytes).toBe(Buffer.byteLength(file.path));
    }
    const { items: under } = await inTenant((tx) => tx.projectFiles.list(project.id, { under: 'src' }));
    expect(under.map((file) => file.path)).toEqual(['src/a.ts', 'src/lib/a.ts', 'src/z.ts']);
    const { items: nested } = await inTenant((tx) => tx.projectFiles.list(project.id, { under: 'src/lib' }));
    expect(nested.map((file) => file.path)).toEqual(['src/lib/a.ts']);
    // LIKE wildcards in the folder name are taken literally.
    const { items: literal } = await inTenant((tx) => tx.projectFiles.list(project.id, { under: 'a_b' }));
    expect(literal.map((file) => file.path)).toEqual(['a_b/x']);
    const empty = { items: [], nextCursor: null };
    expect(await inTenant((tx) => tx.projectFiles.list(project.id, { under: 'nowhere' }))).toEqual(empty);
    expect(await inTenant((tx) => tx.projectFiles.list(randomUUID()))).toEqual(empty);
    // Paged to the end, under a folder too: every file once, in path order.
    for (const limit of [1, 2, 3]) {
      const pages = await allPages(limit, (page) => inTenant((tx) => tx.projectFiles.list(project.id, page)));
      expect(pages.flat().map((file) => file.path)).toEqual([...paths].sort());
      const src = await allPages(limit, (page) =>
        inTenant((tx) => tx.projectFiles.list(project.id, { ...page, under: 'src' })),
      );
      expect(src.flat().map((file) => file.path)).toEqual(['src/a.ts', 'src/lib/a.ts', 'src/z.ts']);
    }
  });

  it('gets and deletes files, reporting missing ones as not found', async () => {
    await inTenant((tx) => tx.projectFiles.upsert({ projectId, path: 'tmp/delete-me', content: 'x' }));
    await inTenant((tx) => tx.projectFiles.delete(projectId, 'tmp/delete-me'));
    expect((await fileRows(h, projectId)).map((r) => r.path)).not.toContain('tmp/delete-me');
    await inTenant(async (tx) => {
      await expect(tx.projectFiles.get(projectId, 'tmp/delete-me')).rejects.toBeInstanceOf(NotFoundError);
      await expect(tx.projectFiles.delete(projectId, 'tmp/delete-me')).rejects.toBeInstanceOf(NotFoundError);
      await expect(tx.projectFiles.get(randomUUID(), 'docs/readme.md')).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  it('refuses unsafe or empty paths with a ValidationError and writes nothing', async () => {
    const before = await fileRows(h, projectId);
    for (const path of [
      '/abs',
      '../x',
      'a/../b',
      './a',
      'a//b',
      'a/',
      'a\\b',
      '',
      'nul\0byte',
      'x'.repeat(1025),
    ]) {
      const label = JSON.stringify(path.slice(0, 20));
      const error = await caught(inTenant((tx) => tx.projectFiles.upsert({ projectId, path, content: 'x' })));
      expect(error, label).toBeInstanceOf(ValidationError);
      expect(
        (error as ValidationError).issues.map((i) => i.path),
        label,
      ).toContain('path');
      await expect(
        inTenant((tx) => tx.projectFiles.get(projectId, path)),
        label,
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        inTenant((tx) => tx.projectFiles.delete(projectId, path)),
        label,
      ).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(inTenant((tx) => tx.projectFiles.list(projectId, { under: '../' }))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await fileRows(h, projectId)).toEqual(before);
  });

  it('refuses to write into a soft-deleted or unknown project', async () => {
    const project = await newProject();
    await inTenant((tx) => tx.projects.delete(project.id));
    await expect(
      inTenant((tx) => tx.projectFiles.upsert({ projectId: project.id, path: 'late.txt', content: 'x' })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      inTenant((tx) => tx.projectFiles.upsert({ projectId: randomUUID(), path: 'late.txt', content: 'x' })),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await fileRows(h, project.id)).toEqual([]);
  });

  it('cascades a hard delete of the project to its files and agent state', async () => {
    const project = await newProject();
    await inTenant(async (tx) => {
      await tx.projectFiles.upsert({ projectId: project.id, path: 'a.txt', content: 'a' });
      await tx.projectFiles.upsert({ projectId: project.id, path: 'b/c.txt', content: 'c' });
      await tx.agentStates.save({ projectId: project.id, state: { step: 1 }, expectedVersion: null });
    });
    expect(await fileRows(h, project.id)).toHaveLength(2);
    await h.asOwner((c) => c.query('DELETE FROM projects WHERE id = $1', [project.id]));
    expect(await fileRows(h, project.id)).toEqual([]);
    const [states] = await h.asOwner((c) =>
      c.query<{ n: number }>('SELECT count(*)::int AS n FROM agent_states WHERE project_id = $1', [
        project.id,
      ]),
    );
    expect(states?.n).toBe(0);
    // Files of other projects are untouched.
    expect((await fileRows(h, projectId)).length).toBeGreaterThan(0);
  });
});
