import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DatabaseError,
  ForbiddenError,
  NotFoundError,
  type ServiceTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}@example.test`;
}

async function storedHash(h: EngineHarness, id: string): Promise<string | null> {
  const [row] = await h.asOwner((c) =>
    c.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = $1', [id]),
  );
  if (!row) throw new Error(`user ${id} has no row`);
  return row.password_hash;
}

/** Asserts a value handed out by a repository carries no trace of a password hash. */
function expectNoSecret(value: unknown, label: string): void {
  expect(value, label).toBeTypeOf('object');
  expect(value, label).not.toBeNull();
  const keys = Object.keys(value as object);
  expect(keys, label).not.toContain('passwordHash');
  expect(keys, label).not.toContain('password_hash');
  expect(keys, label).not.toContain('password');
  expect(JSON.stringify(value), label).not.toContain('scrypt$');
}

describeEachEngine('users', (h) => {
  const svc = <T>(work: (tx: ServiceTx) => Promise<T>) => h.store.asService({ actor: 'users-test' }, work);
  const password = 'correct horse battery staple';

  it('stores a salted scrypt hash, never the password', async () => {
    const a = await svc((tx) => tx.users.create({ email: uniqueEmail(), name: 'A', password }));
    const b = await svc((tx) => tx.users.create({ email: uniqueEmail(), name: 'B', password }));
    const hashA = await storedHash(h, a.id);
    const hashB = await storedHash(h, b.id);
    expect(hashA).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hashA).not.toContain(password);
    expect(hashA).not.toBe(hashB);
    const withoutPassword = await svc((tx) => tx.users.create({ email: uniqueEmail(), name: 'C' }));
    expect(await storedHash(h, withoutPassword.id)).toBeNull();
  });

  it('lower-cases emails and keeps them unique among live users, case-insensitively', async () => {
    const local = `mixed-${randomBytes(4).toString('hex')}`;
    const user = await svc((tx) =>
      tx.users.create({ email: `  ${local.toUpperCase()}@Example.TEST `, name: 'M' }),
    );
    expect(user.email).toBe(`${local}@example.test`);
    expect((await svc((tx) => tx.users.getByEmail(`${local}@EXAMPLE.test`))).id).toBe(user.id);
    const error = await caught(svc((tx) => tx.users.create({ email: `${local}@example.TEST`, name: 'Dup' })));
    expect(error).toBeInstanceOf(ConflictError);
    expect(await ownerCount(h, 'users WHERE lower(email) = $1', [`${local}@example.test`])).toBe(1);
    // Changing another user's email to a taken one is a conflict too.
    const other = await svc((tx) => tx.users.create({ email: uniqueEmail(), name: 'Other' }));
    await expect(
      svc((tx) => tx.users.update(other.id, { email: `${local.toUpperCase()}@example.test` })),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await svc((tx) => tx.users.get(other.id))).email).toBe(other.email);
  });

  it('verifies passwords: right, wrong, unknown email, no password, soft-deleted user', async () => {
    const email = uniqueEmail('login');
    const user = await svc((tx) => tx.users.create({ email, name: 'Login', password }));
    const ok = await svc((tx) => tx.users.verifyPassword(email.toUpperCase(), password));
    expect(ok?.id).toBe(user.id);
    expectNoSecret(ok, 'verifyPassword result');
    expect(await svc((tx) => tx.users.verifyPassword(email, `${password}!`))).toBeNull();
    expect(await svc((tx) => tx.users.verifyPassword(uniqueEmail('nobody'), password))).toBeNull();
    expect(await svc((tx) => tx.users.verifyPassword('not an email', password))).toBeNull();
    const noPassword = await svc((tx) => tx.users.create({ email: uniqueEmail('nopw'), name: 'No PW' }));
    expect(await svc((tx) => tx.users.verifyPassword(noPassword.email, ''))).toBeNull();
    expect(await svc((tx) => tx.users.verifyPassword(noPassword.email, password))).toBeNull();
    await svc((tx) => tx.users.delete(user.id));
    expect(await svc((tx) => tx.users.verifyPassword(email, password))).toBeNull();
  });

  it('sets a new password: the old one stops working, a too-short one is refused', async () => {
    const email = uniqueEmail('reset');
    const user = await svc((tx) => tx.users.create({ email, name: 'Reset', password }));
    const before = await storedHash(h, user.id);
    await svc((tx) => tx.users.setPassword(user.id, 'a brand new secret'));
    const after = await storedHash(h, user.id);
    expect(after).not.toBe(before);
    expect(after).toMatch(/^scrypt\$/);
    expect(await svc((tx) => tx.users.verifyPassword(email, password))).toBeNull();
    expect((await svc((tx) => tx.users.verifyPassword(email, 'a brand new secret')))?.id).toBe(user.id);

    const error = await caught(svc((tx) => tx.users.setPassword(user.id, 'short')));
    expect(error).toBeInstanceOf(ValidationError);
    expect(await storedHash(h, user.id)).toBe(after);
    await expect(
      svc((tx) => tx.users.setPassword(randomUUID(), 'long enough secret')),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('frees the email of a soft-deleted user', async () => {
    const email = uniqueEmail('gone');
    const first = await svc((tx) => tx.users.create({ email, name: 'First' }));
    await svc((tx) => tx.users.delete(first.id));
    await expect(svc((tx) => tx.users.get(first.id))).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc((tx) => tx.users.getByEmail(email))).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc((tx) => tx.users.delete(first.id))).rejects.toBeInstanceOf(NotFoundError);
    const second = await svc((tx) => tx.users.create({ email, name: 'Second' }));
    expect(second.id).not.toBe(first.id);
    expect((await svc((tx) => tx.users.getByEmail(email))).id).toBe(second.id);
    expect(await ownerCount(h, 'users WHERE email = $1', [email])).toBe(2);
    expect(await ownerCount(h, 'users WHERE email = $1 AND deleted_at IS NOT NULL', [email])).toBe(1);
  });

  it('never returns the password hash from any repository method', async () => {
    const f = await createTenant(h.store);
    const email = uniqueEmail('keys');
    const created = await svc((tx) => tx.users.create({ email, name: 'Keys', password }));
    await svc((tx) => tx.memberships.create(f.tenant.id, { userId: created.id, role: 'member' }));
    const results: Record<string, unknown> = {
      create: created,
      get: await svc((tx) => tx.users.get(created.id)),
      getByEmail: await svc((tx) => tx.users.getByEmail(email)),
      update: await svc((tx) => tx.users.update(created.id, { name: 'Keys 2' })),
      verifyPassword: await svc((tx) => tx.users.verifyPassword(email, password)),
      tenantGet: await h.store.withTenant(f.context, (tx) => tx.users.get(created.id)),
    };
    for (const [label, value] of Object.entries(results)) {
      expectNoSecret(value, label);
      expect((value as { id: string }).id, label).toBe(created.id);
    }
    for (const member of (await h.store.withTenant(f.context, (tx) => tx.memberships.list())).items) {
      expectNoSecret(member, 'memberships.list');
    }
    // The hash is really there: the repositories leave it out on purpose.
    expect(await storedHash(h, created.id)).toMatch(/^scrypt\$/);
  });

  describe('the app role', () => {
    let a: TenantFixture;
    let b: TenantFixture;
    let memberOfA: string;
    let outsider: string;

    beforeAll(async () => {
      a = await createTenant(h.store);
      b = await createTenant(h.store);
      memberOfA = await svc(async (tx) => {
        const user = await tx.users.create({ email: uniqueEmail('member'), name: 'Member', password });
        await tx.memberships.create(a.tenant.id, { userId: user.id, role: 'member' });
        return user.id;
      });
      outsider = (
        await svc((tx) => tx.users.create({ email: uniqueEmail('outsider'), name: 'Out', password }))
      ).id;
    });

    it('cannot read password_hash, even with raw SQL', async () => {
      for (const text of [
        'select password_hash from users',
        'select * from users',
        'select id from users where password_hash is not null',
      ]) {
        const error = await caught(h.store.withTenant(a.context, (tx) => tx.query(text)));
        expect(error, text).toBeInstanceOf(ForbiddenError);
        expect((error as ForbiddenError).cause, text).toBeInstanceOf(DatabaseError);
        expect(((error as ForbiddenError).cause as DatabaseError).kind, text).toBe('insufficient_privilege');
      }
      // Nor write it.
      const write = await caught(
        h.store.withTenant(a.context, (tx) =>
          tx.query(`update users set password_hash = 'scrypt$forged' where id = $1`, [memberOfA]),
        ),
      );
      expect(write).toBeInstanceOf(ForbiddenError);
      expect(await storedHash(h, memberOfA)).not.toBe('scrypt$forged');
    });

    it('sees only the users who are members of its tenant', async () => {
      const visible = await h.store.withTenant(a.context, (tx) =>
        tx.query<{ id: string }>('select id from users order by id'),
      );
      expect(visible.map((r) => r.id).sort()).toEqual([a.owner.id, memberOfA].sort());
      expect(await ownerCount(h, 'users')).toBeGreaterThan(visible.length);
      await h.store.withTenant(a.context, async (tx) => {
        expect((await tx.users.get(memberOfA)).id).toBe(memberOfA);
        await expect(tx.users.get(outsider)).rejects.toBeInstanceOf(NotFoundError);
        await expect(tx.users.get(b.owner.id)).rejects.toBeInstanceOf(NotFoundError);
      });
      await h.store.withTenant(b.context, async (tx) => {
        await expect(tx.users.get(memberOfA)).rejects.toBeInstanceOf(NotFoundError);
      });
    });
  });
});
