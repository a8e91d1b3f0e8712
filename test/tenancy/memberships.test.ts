import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DatabaseError,
  ForbiddenError,
  type MembershipRole,
  NotFoundError,
  type ServiceTx,
  schema,
  type User,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

async function membershipRows(
  h: EngineHarness,
  tenantId: string,
  userId: string,
): Promise<Array<{ role: string }>> {
  return h.asOwner((c) =>
    c.query<{ role: string }>('SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
      tenantId,
      userId,
    ]),
  );
}

describeEachEngine('memberships', (h) => {
  const svc = <T>(work: (tx: ServiceTx) => Promise<T>) =>
    h.store.asService({ actor: 'memberships-test' }, work);
  let f: TenantFixture;
  const newUser = (name: string): Promise<User> =>
    svc((tx) => tx.users.create({ email: `${name}-${randomBytes(4).toString('hex')}@example.test`, name }));

  beforeAll(async () => {
    f = await createTenant(h.store);
  });

  it('lists a member the service role added with email and name; the tenant changes its role and removes it', async () => {
    const ada = await newUser('Ada');
    const added = await svc((tx) => tx.memberships.create(f.tenant.id, { userId: ada.id, role: 'member' }));
    expect(added).toMatchObject({ tenantId: f.tenant.id, userId: ada.id, role: 'member' });
    expect(await membershipRows(h, f.tenant.id, ada.id)).toEqual([{ role: 'member' }]);

    const { items: listed } = await h.store.withTenant(f.context, (tx) => tx.memberships.list());
    // Oldest first: the fixture's owner, then Ada.
    expect(listed.map((m) => m.userId)).toEqual([f.owner.id, ada.id]);
    expect(listed[1]).toMatchObject({ userId: ada.id, role: 'member', email: ada.email, name: 'Ada' });
    expect(listed[0]).toMatchObject({ role: 'owner', email: f.owner.email, name: f.owner.name });

    const changed = await h.store.withTenant(f.context, (tx) =>
      tx.memberships.update(ada.id, { role: 'admin' }),
    );
    expect(changed.role).toBe('admin');
    expect(await membershipRows(h, f.tenant.id, ada.id)).toEqual([{ role: 'admin' }]);

    await h.store.withTenant(f.context, (tx) => tx.memberships.delete(ada.id));
    expect(await membershipRows(h, f.tenant.id, ada.id)).toEqual([]);
    const { items: after } = await h.store.withTenant(f.context, (tx) => tx.memberships.list());
    expect(after.map((m) => m.userId)).toEqual([f.owner.id]);
    // No longer a member: the user is no longer visible to the tenant.
    await expect(h.store.withTenant(f.context, (tx) => tx.users.get(ada.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('makes a new member visible to the tenant', async () => {
    const bob = await newUser('Bob');
    await expect(h.store.withTenant(f.context, (tx) => tx.users.get(bob.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await svc((tx) => tx.memberships.create(f.tenant.id, { userId: bob.id, role: 'manager' }));
    expect((await h.store.withTenant(f.context, (tx) => tx.users.get(bob.id))).email).toBe(bob.email);
  });

  it('refuses a duplicate membership with a ConflictError and writes nothing', async () => {
    const cy = await newUser('Cy');
    await svc((tx) => tx.memberships.create(f.tenant.id, { userId: cy.id, role: 'member' }));
    const error = await caught(
      svc((tx) => tx.memberships.create(f.tenant.id, { userId: cy.id, role: 'admin' })),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(await membershipRows(h, f.tenant.id, cy.id)).toEqual([{ role: 'member' }]);
    // The same user may belong to another tenant.
    const other = await createTenant(h.store);
    await svc((tx) => tx.memberships.create(other.tenant.id, { userId: cy.id, role: 'admin' }));
    expect(await membershipRows(h, other.tenant.id, cy.id)).toEqual([{ role: 'admin' }]);
    expect(await membershipRows(h, f.tenant.id, cy.id)).toEqual([{ role: 'member' }]);
  });

  it('refuses an invalid role with a ValidationError and writes nothing', async () => {
    const dee = await newUser('Dee');
    for (const role of ['superuser', 'OWNER', '', 7]) {
      const error = await caught(
        svc((tx) => tx.memberships.create(f.tenant.id, { userId: dee.id, role: role as MembershipRole })),
      );
      expect(error, String(role)).toBeInstanceOf(ValidationError);
      expect(
        (error as ValidationError).issues.map((i) => i.path),
        String(role),
      ).toContain('role');
    }
    expect(await membershipRows(h, f.tenant.id, dee.id)).toEqual([]);

    await svc((tx) => tx.memberships.create(f.tenant.id, { userId: dee.id, role: 'member' }));
    const error = await caught(
      h.store.withTenant(f.context, (tx) =>
        tx.memberships.update(dee.id, { role: 'root' as MembershipRole }),
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(await membershipRows(h, f.tenant.id, dee.id)).toEqual([{ role: 'member' }]);
  });

  it('refuses an unknown user id with a ValidationError from the foreign key', async () => {
    const ghost = randomUUID();
    const error = await caught(
      svc((tx) => tx.memberships.create(f.tenant.id, { userId: ghost, role: 'member' })),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).cause).toBeInstanceOf(DatabaseError);
    expect(((error as ValidationError).cause as DatabaseError).kind).toBe('foreign_key_violation');
    expect(await membershipRows(h, f.tenant.id, ghost)).toEqual([]);
  });

  it('reports changing or removing a non-member as not found', async () => {
    const stranger = await newUser('Stranger');
    await h.store.withTenant(f.context, async (tx) => {
      await expect(tx.memberships.update(stranger.id, { role: 'admin' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(tx.memberships.delete(stranger.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(tx.memberships.delete(randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    });
    expect(await membershipRows(h, f.tenant.id, stranger.id)).toEqual([]);
  });

  it('lists the memberships of a user across tenants for the service role', async () => {
    const eve = await newUser('Eve');
    const other = await createTenant(h.store);
    await svc(async (tx) => {
      await tx.memberships.create(f.tenant.id, { userId: eve.id, role: 'member' });
      await tx.memberships.create(other.tenant.id, { userId: eve.id, role: 'service' });
    });
    const { items: memberships } = await svc((tx) => tx.memberships.listForUser(eve.id));
    expect(memberships.map((m) => [m.tenantId, m.role]).sort()).toEqual(
      [
        [f.tenant.id, 'member'],
        [other.tenant.id, 'service'],
      ].sort(),
    );
  });

  it('pages through members oldest first, splitting members added in one transaction', async () => {
    const g = await createTenant(h.store);
    // One transaction, one now(): six memberships share created_at, ordered among themselves by id.
    const users = await svc(async (tx) => {
      const created: User[] = [];
      for (let n = 0; n < 6; n++) {
        const user = await tx.users.create({
          email: `tie-${n}-${randomBytes(4).toString('hex')}@example.test`,
          name: `Tie ${n}`,
        });
        await tx.memberships.create(g.tenant.id, { userId: user.id, role: 'member' });
        created.push(user);
      }
      return created;
    });
    const late = await newUser('Late');
    await svc((tx) => tx.memberships.create(g.tenant.id, { userId: late.id, role: 'member' }));
    const expected = await h.asOwner((c) =>
      c.query<{ user_id: string }>(
        'SELECT user_id FROM memberships WHERE tenant_id = $1 ORDER BY created_at, id',
        [g.tenant.id],
      ),
    );
    expect(expected).toHaveLength(8);
    expect(expected[0]?.user_id).toBe(g.owner.id);
    expect(expected.at(-1)?.user_id).toBe(late.id);
    for (const limit of [1, 2, 3, 5]) {
      const pages = await allPages(limit, (page) =>
        h.store.withTenant(g.context, (tx) => tx.memberships.list(page)),
      );
      expect(
        pages.flat().map((m) => m.userId),
        `limit ${limit}`,
      ).toEqual(expected.map((row) => row.user_id));
    }
    // The service role pages a user's memberships the same way, across tenants.
    const many = users[0]!;
    const tenants = [await createTenant(h.store), await createTenant(h.store), await createTenant(h.store)];
    await svc(async (tx) => {
      for (const t of tenants) await tx.memberships.create(t.tenant.id, { userId: many.id, role: 'admin' });
    });
    const ofUser = await h.asOwner((c) =>
      c.query<{ tenant_id: string }>(
        'SELECT tenant_id FROM memberships WHERE user_id = $1 ORDER BY created_at, id',
        [many.id],
      ),
    );
    expect(ofUser[0]?.tenant_id).toBe(g.tenant.id);
    const pages = await allPages(1, (page) => svc((tx) => tx.memberships.listForUser(many.id, page)));
    expect(pages.flat().map((m) => m.tenantId)).toEqual(ofUser.map((row) => row.tenant_id));
    expect(pages).toHaveLength(4);
  });

  describe('a tenant cannot add users to itself', () => {
    let a: TenantFixture;
    let b: TenantFixture;
    let userOfB: User;
    beforeAll(async () => {
      a = await createTenant(h.store);
      b = await createTenant(h.store);
      userOfB = await newUser('B');
      await svc((tx) => tx.memberships.create(b.tenant.id, { userId: userOfB.id, role: 'member' }));
    });

    const expectRefused = (error: unknown, label: string) => {
      expect(error, label).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).cause, label).toBeInstanceOf(DatabaseError);
      expect(((error as ForbiddenError).cause as DatabaseError).kind, label).toBe('insufficient_privilege');
    };

    it('has no tenant-side add', async () => {
      await h.store.withTenant(a.context, async (tx) => expect('add' in tx.memberships).toBe(false));
    });

    it("refuses to add B's user to A, through the query builder or raw SQL, with a ForbiddenError", async () => {
      for (const role of ['owner', 'member'] as const) {
        expectRefused(
          await caught(
            h.store.withTenant(a.context, (tx) =>
              tx.db.insert(schema.memberships).values({ tenantId: a.tenant.id, userId: userOfB.id, role }),
            ),
          ),
          `query builder ${role}`,
        );
        expectRefused(
          await caught(
            h.store.withTenant(a.context, (tx) =>
              tx.query('INSERT INTO memberships (user_id, role) VALUES ($1, $2)', [userOfB.id, role]),
            ),
          ),
          `raw ${role}`,
        );
      }
      expect(await membershipRows(h, a.tenant.id, userOfB.id)).toEqual([]);
    });

    it('refuses to move a membership onto another user or tenant (only the role may change)', async () => {
      for (const [column, value] of [
        ['user_id', userOfB.id],
        ['tenant_id', b.tenant.id],
      ] as const) {
        expectRefused(
          await caught(
            h.store.withTenant(a.context, (tx) =>
              tx.query(`UPDATE memberships SET ${column} = $1 WHERE user_id = $2`, [value, a.owner.id]),
            ),
          ),
          column,
        );
      }
      expect(await membershipRows(h, a.tenant.id, a.owner.id)).toEqual([{ role: 'owner' }]);
      expect(await membershipRows(h, a.tenant.id, userOfB.id)).toEqual([]);
    });

    it("cannot see B's user", async () => {
      await h.store.withTenant(a.context, async (tx) => {
        await expect(tx.users.get(userOfB.id)).rejects.toBeInstanceOf(NotFoundError);
        expect((await tx.memberships.list()).items.map((m) => m.userId)).toEqual([a.owner.id]);
        expect(await tx.query('SELECT email, name FROM users WHERE id = $1', [userOfB.id])).toEqual([]);
      });
    });
  });
});
