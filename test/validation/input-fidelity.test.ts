import { beforeAll, describe, expect, it } from 'vitest';
import { type ServiceTx, TenantContextError, type TenantTx, ValidationError } from '../../src/index.ts';
import { PASSWORD_MAX_BYTES } from '../../src/shared/validation.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture, uniqueSlug } from '../harness/fixtures.ts';

// Input is either refused, naming its field, or stored exactly as given (file paths: in NFC).

const LONE_HIGH = '\uD800';
const LONE_LOW = '\uDC00';

/** Asserts a ValidationError listing `path` among its issues. */
function expectRefused(error: unknown, path: string): void {
  expect(error, `should have been refused at ${path}`).toBeInstanceOf(ValidationError);
  const paths = (error as ValidationError).issues.map((issue) => issue.path);
  expect(paths, (error as Error).message).toContain(path);
  expect((error as ValidationError).code).toBe('validation_failed');
}

describeEachEngine('input is refused or stored as given', (h) => {
  let f: TenantFixture;
  let projectId: string;
  const t = <T>(work: (tx: TenantTx) => Promise<T>) => caught(h.store.withTenant(f.context, work));
  const svc = <T>(work: (s: ServiceTx) => Promise<T>) =>
    caught(h.store.asService({ actor: 'fidelity' }, work));

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = await h.store.withTenant(f.context, async (tx) => {
      const project = await tx.projects.create({ slug: 'files', name: 'Files' });
      return project.id;
    });
  });

  describe('lone surrogates', () => {
    it('are refused in every text field, naming it, instead of being stored as U+FFFD', async () => {
      const before = [await ownerCount(h, 'projects'), await ownerCount(h, 'project_files')];
      expectRefused(await t((tx) => tx.projects.create({ slug: 'ls-1', name: `A${LONE_HIGH}` })), 'name');
      expectRefused(
        await t((tx) => tx.projects.create({ slug: 'ls-2', name: 'B', description: `x${LONE_LOW}y` })),
        'description',
      );
      expectRefused(
        await t((tx) => tx.projects.create({ slug: 'ls-3', name: 'C', techStack: ['ts', `r${LONE_LOW}`] })),
        'techStack.1',
      );
      expectRefused(
        await t((tx) => tx.projectFiles.upsert({ projectId, path: 'a.md', content: `#${LONE_HIGH}` })),
        'content',
      );
      expectRefused(
        await t((tx) => tx.projectFiles.upsert({ projectId, path: `b${LONE_LOW}.md`, content: '' })),
        'path',
      );
      expectRefused(
        await svc((s) => s.users.create({ email: `${uniqueSlug()}@x.test`, name: `U${LONE_LOW}` })),
        'name',
      );
      expectRefused(
        await svc((s) => s.tenants.create({ slug: uniqueSlug(), name: `T${LONE_HIGH}` })),
        'name',
      );
      expect([await ownerCount(h, 'projects'), await ownerCount(h, 'project_files')]).toEqual(before);
    });

    it('in a request context are a TenantContextError naming the field, before any work', async () => {
      let ran = false;
      const error = await caught(
        h.store.withTenant({ ...f.context, request: { userAgent: `curl${LONE_LOW}` } }, async (tx) => {
          ran = true;
          return tx.projects.create({ slug: 'never', name: 'Never' });
        }),
      );
      expect(error).toBeInstanceOf(TenantContextError);
      expect((error as Error).message).toContain('request.userAgent');
      const cause = (error as TenantContextError).cause as ValidationError;
      expect(cause.issues.map((issue) => issue.path)).toContain('request.userAgent');
      expect(ran).toBe(false);
    });

    it('still lets well-formed astral characters through', async () => {
      const project = await h.store.withTenant(f.context, (tx) =>
        tx.projects.create({ slug: 'emoji', name: 'Rocket 🚀', description: '𝄞 music' }),
      );
      expect(project.name).toBe('Rocket 🚀');
      expect(project.description).toBe('𝄞 music');
    });
  });

  describe('repository URLs', () => {
    const accepted = [
      'https://github.com/acme/web.git',
      'http://git.internal/acme/web',
      'ssh://git@github.com/acme/web.git',
      'git://git.kernel.org/pub/scm/git/git.git',
      'git@github.com:acme/web.git',
    ];
    it('accepts https, http, ssh, git and user@host:path, and stores them as given', async () => {
      for (const [index, repoUrl] of accepted.entries()) {
        const project = await h.store.withTenant(f.context, (tx) =>
          tx.projects.create({ slug: `repo-${index}`, name: 'Repo', repoUrl }),
        );
        expect(project.repoUrl).toBe(repoUrl);
      }
    });

    const refused = [
      'javascript:alert(1)',
      'JavaScript:alert(document.cookie)//github.com',
      'file:///etc/passwd',
      'data:text/html,<script>alert(1)</script>',
      'ftp://example.com/repo',
      'https://user:token@github.com/acme/web.git',
      'https://git\nhub.com/acme/web',
      'github.com/acme/web',
      'https://',
    ];
    for (const repoUrl of refused) {
      it(`refuses ${JSON.stringify(repoUrl)}, on create and on update`, async () => {
        expectRefused(
          await t((tx) => tx.projects.create({ slug: uniqueSlug('r'), name: 'R', repoUrl })),
          'repoUrl',
        );
        expectRefused(await t((tx) => tx.projects.update(projectId, { repoUrl })), 'repoUrl');
      });
    }
  });

  describe('file paths', () => {
    const refused: Array<[string, string]> = [
      ['a control character', 'docs/bell\u0007.md'],
      ['an ANSI escape', 'docs/\u001b[31mred.md'],
      ['a C1 control', 'docs/\u009b31m.md'],
      ['a right-to-left override', 'docs/invoice\u202Efdp.exe'],
      ['a left-to-right isolate', 'docs/\u2066x\u2069.md'],
      ['a ".." segment', 'docs/../secret.md'],
      ['a "." segment', 'docs/./a.md'],
      ['a percent-encoded ".." segment', 'docs/%2e%2e/secret.md'],
      ['a mixed-case, half-encoded ".." segment', 'docs/.%2E/secret.md'],
      ['a fullwidth ".." segment', 'docs/\uFF0E\uFF0E/secret.md'],
      ['a percent-encoded "." segment', '%2E/a.md'],
      ['a leading slash', '/etc/passwd'],
      ['a leading backslash', '\\windows\\a.md'],
      ['a backslash', 'docs\\a.md'],
      ['an empty segment', 'docs//a.md'],
      ['a trailing slash', 'docs/'],
      ['a blank segment', 'docs/ /a.md'],
      ['an ideographic-space segment', 'docs/\u3000/a.md'],
      ['a zero-width segment', 'docs/\u200B/a.md'],
      ['an empty path', ''],
    ];
    for (const [what, path] of refused) {
      it(`refuses ${what}: on upsert, get and delete`, async () => {
        expectRefused(await t((tx) => tx.projectFiles.upsert({ projectId, path, content: 'x' })), 'path');
        expect(await t((tx) => tx.projectFiles.get(projectId, path))).toBeInstanceOf(ValidationError);
        expect(await t((tx) => tx.projectFiles.delete(projectId, path))).toBeInstanceOf(ValidationError);
      });
    }

    it('accepts dots inside names, spaces inside segments and non-Latin text', async () => {
      for (const path of [
        '.github/workflows/ci.yml',
        'docs/my notes.md',
        '...',
        'a..b/c',
        'docs/日本語.md',
      ]) {
        const file = await h.store.withTenant(f.context, (tx) =>
          tx.projectFiles.upsert({ projectId, path, content: path }),
        );
        expect(file.path).toBe(path);
      }
    });

    it('stores paths in NFC: café.md typed decomposed or composed is one file', async () => {
      const decomposed = 'notes/cafe\u0301.md';
      const composed = 'notes/caf\u00e9.md';
      const first = await h.store.withTenant(f.context, (tx) =>
        tx.projectFiles.upsert({ projectId, path: decomposed, content: 'one' }),
      );
      expect(first.path).toBe(composed);
      const second = await h.store.withTenant(f.context, (tx) =>
        tx.projectFiles.upsert({ projectId, path: composed, content: 'two' }),
      );
      expect(second.id).toBe(first.id);
      const read = await h.store.withTenant(f.context, (tx) => tx.projectFiles.get(projectId, decomposed));
      expect(read.content).toBe('two');
      const listed = await h.store.withTenant(f.context, (tx) =>
        tx.projectFiles.list(projectId, { under: 'notes' }),
      );
      expect(listed.items.map((file) => file.path)).toEqual([composed]);
    });
  });

  describe('names and slugs', () => {
    const badNames: Array<[string, string]> = [
      ['only zero-width spaces', '\u200B\u200B'],
      ['only a word joiner and a BOM', '\u2060\uFEFF'],
      ['only whitespace', '   '],
      ['only a Hangul filler', '\u3164'],
      ['only a Braille blank', '\u2800'],
      ['an ANSI escape', 'Acme\u001b[2J'],
      ['a CSI (C1) escape', 'Acme\u009b2J'],
      ['a newline', 'Acme\nInc'],
      ['a right-to-left override', 'Acme\u202Egnp'],
      ['leading whitespace (refused, not trimmed)', ' Acme'],
      ['trailing whitespace (refused, not trimmed)', 'Acme\t'],
    ];
    for (const [what, name] of badNames) {
      it(`refuses a name with ${what}: tenant, user and project`, async () => {
        expectRefused(await svc((s) => s.tenants.create({ slug: uniqueSlug(), name })), 'name');
        expectRefused(await svc((s) => s.users.create({ email: `${uniqueSlug()}@x.test`, name })), 'name');
        expectRefused(await t((tx) => tx.projects.create({ slug: uniqueSlug('p'), name })), 'name');
        expectRefused(await t((tx) => tx.projects.update(projectId, { name })), 'name');
      });
    }

    for (const slug of ['\u200B', 'acme\u200B', 'acme\u001b[0m', 'ac\u202Eme', ' ', 'acme ']) {
      it(`refuses the slug ${JSON.stringify(slug)}`, async () => {
        expectRefused(await svc((s) => s.tenants.create({ slug, name: 'Acme' })), 'slug');
        expectRefused(await t((tx) => tx.projects.create({ slug, name: 'Acme' })), 'slug');
      });
    }

    it('keeps names with inner spaces, accents, emoji and joiners inside visible text', async () => {
      for (const name of ['Ada Lovelace', 'Zoë', '👩‍💻 Team', 'Ÿ Co.']) {
        const tenant = await h.store.asService({ actor: 'fidelity' }, (s) =>
          s.tenants.create({ slug: uniqueSlug(), name }),
        );
        expect(tenant.name).toBe(name);
      }
    });
  });

  describe('passwords', () => {
    it(`are bounded to ${PASSWORD_MAX_BYTES} UTF-8 bytes before hashing, on create and on a change`, async () => {
      const email = `${uniqueSlug()}@x.test`;
      // 600 characters, 1,200 bytes.
      const long = 'é'.repeat(600);
      expectRefused(await svc((s) => s.users.create({ email, name: 'U', password: long })), 'password');
      expect(await ownerCount(h, 'users WHERE email = $1', [email])).toBe(0);
      const user = await h.store.asService({ actor: 'fidelity' }, (s) =>
        s.users.create({ email, name: 'U', password: 'a'.repeat(PASSWORD_MAX_BYTES) }),
      );
      // setPassword takes the bare password: the message names it.
      for (const password of [`${'a'.repeat(PASSWORD_MAX_BYTES)}b`, long]) {
        const error = await svc((s) => s.users.setPassword(user.id, password));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toMatch(/^invalid password: .*1024 bytes/);
      }
      await h.store.asService({ actor: 'fidelity' }, async (s) => {
        expect(await s.users.verifyPassword(email, 'a'.repeat(PASSWORD_MAX_BYTES))).toMatchObject({
          id: user.id,
        });
        // Never accepted, so never hashed when checked either.
        expect(await s.users.verifyPassword(email, 'x'.repeat(10 * 1024 * 1024))).toBeNull();
      });
    });
  });

  it('left every refused write unwritten', async () => {
    expect(await ownerCount(h, 'projects WHERE tenant_id = $1 AND slug LIKE $2', [f.tenant.id, 'ls-%'])).toBe(
      0,
    );
    expect(await ownerCount(h, 'tenants WHERE name = $1', ['\u200B\u200B'])).toBe(0);
  });
});
