import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  type Project,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

interface ProjectRow {
  slug: string;
  name: string;
  status: string;
  archived_at: Date | null;
  deleted_at: Date | null;
}

async function projectRows(h: EngineHarness, tenantId: string, where = 'true', params: unknown[] = []) {
  return h.asOwner((c) =>
    c.query<ProjectRow & { id: string }>(
      `SELECT id, slug, name, status, archived_at, deleted_at FROM projects WHERE tenant_id = $1 AND ${where} ORDER BY created_at, slug`,
      [tenantId, ...params],
    ),
  );
}

async function projectRow(h: EngineHarness, id: string): Promise<ProjectRow> {
  const [row] = await h.asOwner((c) =>
    c.query<ProjectRow>('SELECT slug, name, status, archived_at, deleted_at FROM projects WHERE id = $1', [
      id,
    ]),
  );
  if (!row) throw new Error(`project ${id} has no row`);
  return row;
}

async function usedProjects(h: EngineHarness, tenantId: string): Promise<number | undefined> {
  const [row] = await h.asOwner((c) =>
    c.query<{ usage: Record<string, number> }>('SELECT usage FROM tenants WHERE id = $1', [tenantId]),
  );
  return row?.usage.projects;
}

describeEachEngine('projects', (h) => {
  let f: TenantFixture;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  beforeAll(async () => {
    f = await createTenant(h.store);
  });

  describe('create and read', () => {
    it('creates a project with its defaults and reads it by id and slug', async () => {
      const project = await inTenant((tx) =>
        tx.projects.create({ slug: 'web', name: 'Web', description: 'The site', techStack: ['ts', 'pg'] }),
      );
      expect(project).toMatchObject({
        tenantId: f.tenant.id,
        slug: 'web',
        name: 'Web',
        description: 'The site',
        techStack: ['ts', 'pg'],
        defaultBranch: 'main',
        config: {},
        qualityMetrics: {},
        status: 'active',
        archivedAt: null,
        deletedAt: null,
      });
      expect(await projectRow(h, project.id)).toMatchObject({ slug: 'web', status: 'active' });
      expect((await inTenant((tx) => tx.projects.get(project.id))).slug).toBe('web');
      expect((await inTenant((tx) => tx.projects.getBySlug('web'))).id).toBe(project.id);
      await expect(inTenant((tx) => tx.projects.get(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
      await expect(inTenant((tx) => tx.projects.getBySlug('nothing-here'))).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('refuses a duplicate slug in the tenant with a ConflictError, without a row or usage', async () => {
      await inTenant((tx) => tx.projects.create({ slug: 'dup', name: 'Dup' }));
      const usage = await usedProjects(h, f.tenant.id);
      const error = await caught(inTenant((tx) => tx.projects.create({ slug: 'dup', name: 'Dup 2' })));
      expect(error).toBeInstanceOf(ConflictError);
      expect(await projectRows(h, f.tenant.id, 'slug = $2', ['dup'])).toHaveLength(1);
      expect(await usedProjects(h, f.tenant.id)).toBe(usage);
      // The same slug in another tenant is fine.
      const other = await createTenant(h.store);
      const theirs = await h.store.withTenant(other.context, (tx) =>
        tx.projects.create({ slug: 'dup', name: 'D' }),
      );
      expect(theirs.tenantId).toBe(other.tenant.id);
    });
  });

  describe('list', () => {
    let g: TenantFixture;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      g = await createTenant(h.store);
      await h.store.withTenant(g.context, async (tx) => {
        for (const slug of ['p-c', 'p-a', 'p-e', 'p-b', 'p-d']) {
          ids[slug] = (await tx.projects.create({ slug, name: slug.toUpperCase() })).id;
        }
        await tx.projects.archive(ids['p-b']!);
        await tx.projects.delete(ids['p-d']!);
      });
    });

    it('pages through live projects in slug order', async () => {
      const slugs = (projects: Project[]) => projects.map((p) => p.slug);
      await h.store.withTenant(g.context, async (tx) => {
        const page1 = await tx.projects.list({ limit: 2 });
        expect(slugs(page1.items)).toEqual(['p-a', 'p-b']);
        const page2 = await tx.projects.list({ limit: 2, cursor: page1.nextCursor! });
        expect(slugs(page2.items)).toEqual(['p-c', 'p-e']);
        // The last page says it is the last: no empty page after it.
        expect(page2.nextCursor).toBeNull();
        const all = await tx.projects.list();
        expect(slugs(all.items)).toEqual(['p-a', 'p-b', 'p-c', 'p-e']);
        expect(all.nextCursor).toBeNull();
      });
      for (const limit of [1, 3, 4]) {
        const pages = await allPages(limit, (page) =>
          h.store.withTenant(g.context, (tx) => tx.projects.list(page)),
        );
        expect(slugs(pages.flat()), `limit ${limit}`).toEqual(['p-a', 'p-b', 'p-c', 'p-e']);
      }
    });

    it('refuses a malformed or tampered cursor with a ValidationError', async () => {
      await h.store.withTenant(g.context, async (tx) => {
        const { nextCursor } = await tx.projects.list({ limit: 1 });
        const tampered = `${nextCursor!.slice(0, -2)}${nextCursor!.endsWith('A') ? 'B' : 'A'}A`;
        for (const cursor of [
          tampered,
          'not a cursor!',
          `${nextCursor}=`,
          encodeCursor('tenants', ['p-a', g.tenant.id]),
          encodeCursor('projects', ['p-a']),
          encodeCursor('projects', ['Not A Slug', g.tenant.id]),
          encodeCursor('projects', ['p-a', 'not-a-uuid']),
          encodeCursor('projects', ['p-a\u0000', g.tenant.id]),
          Buffer.from('["projects", "p-a"').toString('base64url'),
          'x'.repeat(4096),
        ]) {
          const error = await caught(tx.projects.list({ cursor }));
          expect(error, cursor).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['cursor']);
        }
      });
    });

    it('filters by status', async () => {
      await h.store.withTenant(g.context, async (tx) => {
        expect((await tx.projects.list({ status: 'archived' })).items.map((p) => p.slug)).toEqual(['p-b']);
        const active = await tx.projects.list({ status: 'active', limit: 1 });
        expect(active.items.map((p) => p.slug)).toEqual(['p-a']);
        expect(
          (await tx.projects.list({ status: 'active', cursor: active.nextCursor!, limit: 1 })).items.map(
            (p) => p.slug,
          ),
        ).toEqual(['p-c']);
        expect((await tx.projects.list({ status: 'active' })).items.map((p) => p.slug)).toEqual([
          'p-a',
          'p-c',
          'p-e',
        ]);
        await expect(tx.projects.list({ status: 'deleted' as 'active' })).rejects.toBeInstanceOf(
          ValidationError,
        );
      });
    });
  });

  describe('update', () => {
    it('changes the given fields only and advances updatedAt', async () => {
      const project = await inTenant((tx) =>
        tx.projects.create({
          slug: 'upd',
          name: 'Before',
          description: 'kept',
          repoUrl: 'https://example.test/r',
        }),
      );
      const updated = await inTenant((tx) =>
        tx.projects.update(project.id, { name: 'After', techStack: ['go'], config: { ci: true } }),
      );
      expect(updated).toMatchObject({
        id: project.id,
        name: 'After',
        description: 'kept',
        repoUrl: 'https://example.test/r',
        techStack: ['go'],
        config: { ci: true },
      });
      expect(updated.updatedAt.getTime()).toBeGreaterThan(project.updatedAt.getTime());
      expect(updated.createdAt.getTime()).toBe(project.createdAt.getTime());
      expect((await projectRow(h, project.id)).name).toBe('After');
      const cleared = await inTenant((tx) => tx.projects.update(project.id, { description: null }));
      expect(cleared.description).toBeNull();
    });

    it('refuses a slug taken by another project, and updates of unknown or deleted projects', async () => {
      const a = await inTenant((tx) => tx.projects.create({ slug: 'upd-a', name: 'A' }));
      await inTenant((tx) => tx.projects.create({ slug: 'upd-b', name: 'B' }));
      await expect(inTenant((tx) => tx.projects.update(a.id, { slug: 'upd-b' }))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect((await projectRow(h, a.id)).slug).toBe('upd-a');
      await expect(inTenant((tx) => tx.projects.update(randomUUID(), { name: 'X' }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await inTenant((tx) => tx.projects.delete(a.id));
      await expect(inTenant((tx) => tx.projects.update(a.id, { name: 'Zombie' }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect((await projectRow(h, a.id)).name).toBe('A');
    });
  });

  describe('archive', () => {
    it('archives and unarchives, refusing a move from the wrong state', async () => {
      const project = await inTenant((tx) => tx.projects.create({ slug: 'arch', name: 'Arch' }));
      await inTenant(async (tx) => {
        await expect(tx.projects.unarchive(project.id)).rejects.toBeInstanceOf(ConflictError);
      });
      expect(await projectRow(h, project.id)).toMatchObject({ status: 'active', archived_at: null });

      const archived = await inTenant((tx) => tx.projects.archive(project.id));
      expect(archived.status).toBe('archived');
      expect(archived.archivedAt).toBeInstanceOf(Date);
      expect((await projectRow(h, project.id)).status).toBe('archived');
      const archivedAt = (await projectRow(h, project.id)).archived_at;

      await inTenant(async (tx) => {
        await expect(tx.projects.archive(project.id)).rejects.toBeInstanceOf(ConflictError);
      });
      expect(await projectRow(h, project.id)).toMatchObject({ status: 'archived', archived_at: archivedAt });

      const restored = await inTenant((tx) => tx.projects.unarchive(project.id));
      expect(restored).toMatchObject({ status: 'active', archivedAt: null });
      expect(await projectRow(h, project.id)).toMatchObject({ status: 'active', archived_at: null });
    });

    it('reports archiving an unknown or deleted project as not found', async () => {
      const project = await inTenant((tx) => tx.projects.create({ slug: 'arch-gone', name: 'Gone' }));
      await inTenant((tx) => tx.projects.delete(project.id));
      await expect(inTenant((tx) => tx.projects.archive(project.id))).rejects.toBeInstanceOf(NotFoundError);
      await expect(inTenant((tx) => tx.projects.unarchive(project.id))).rejects.toBeInstanceOf(NotFoundError);
      await expect(inTenant((tx) => tx.projects.archive(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
      expect((await projectRow(h, project.id)).status).toBe('deleted');
    });
  });

  describe('soft delete', () => {
    it('hides the project, frees its slug, keeps the row and decrements the usage counter', async () => {
      const project = await inTenant((tx) => tx.projects.create({ slug: 'doomed', name: 'Doomed' }));
      const before = await usedProjects(h, f.tenant.id);
      await inTenant((tx) => tx.projects.delete(project.id));
      expect(await usedProjects(h, f.tenant.id)).toBe((before ?? 0) - 1);

      await inTenant(async (tx) => {
        await expect(tx.projects.get(project.id)).rejects.toBeInstanceOf(NotFoundError);
        await expect(tx.projects.getBySlug('doomed')).rejects.toBeInstanceOf(NotFoundError);
        expect((await tx.projects.list({ limit: 500 })).items.map((p) => p.id)).not.toContain(project.id);
        await expect(tx.projects.delete(project.id)).rejects.toBeInstanceOf(NotFoundError);
      });
      expect(await usedProjects(h, f.tenant.id)).toBe((before ?? 0) - 1);
      const row = await projectRow(h, project.id);
      expect(row.status).toBe('deleted');
      expect(row.deleted_at).not.toBeNull();

      const reborn = await inTenant((tx) => tx.projects.create({ slug: 'doomed', name: 'Reborn' }));
      expect(reborn.id).not.toBe(project.id);
      expect((await inTenant((tx) => tx.projects.getBySlug('doomed'))).id).toBe(reborn.id);
      expect(await usedProjects(h, f.tenant.id)).toBe(before);
      expect(await projectRows(h, f.tenant.id, 'slug = $2', ['doomed'])).toHaveLength(2);
    });

    it('soft-deletes an archived project too', async () => {
      const project = await inTenant((tx) => tx.projects.create({ slug: 'arch-del', name: 'AD' }));
      await inTenant((tx) => tx.projects.archive(project.id));
      await inTenant((tx) => tx.projects.delete(project.id));
      expect((await projectRow(h, project.id)).status).toBe('deleted');
      await expect(inTenant((tx) => tx.projects.get(project.id))).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
