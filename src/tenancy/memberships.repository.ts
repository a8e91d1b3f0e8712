import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { ServiceTx, TenantTx } from '../store/unit-of-work.ts';
import { MEMBERSHIP_ROLES, type Membership, type MembershipRole, memberships } from './memberships.schema.ts';
import { users } from './users.schema.ts';

const addMemberSchema = z.strictObject({ userId: uuidSchema, role: z.enum(MEMBERSHIP_ROLES) });
export type AddMemberInput = z.input<typeof addMemberSchema>;

export interface Member extends Membership {
  email: string;
  name: string;
}

/**
 * Membership of users in the current tenant. A tenant cannot add members: it could name any user
 * and then read their email and name, so adding is for the service role (membershipAdminRepository).
 */
export const membershipsRepository = {
  async changeRole(tx: TenantTx, userId: string, role: MembershipRole): Promise<Membership> {
    const id = parseId(userId, 'user');
    const value = parseInput(z.enum(MEMBERSHIP_ROLES), role, 'membership role');
    const [row] = await tx.db
      .update(memberships)
      .set({ role: value })
      .where(eq(memberships.userId, id))
      .returning();
    if (!row) throw new NotFoundError('membership', id);
    return row;
  },

  async remove(tx: TenantTx, userId: string): Promise<void> {
    const id = parseId(userId, 'user');
    const removed = await tx.db
      .delete(memberships)
      .where(eq(memberships.userId, id))
      .returning({ id: memberships.id });
    if (removed.length === 0) throw new NotFoundError('membership', id);
  },

  /** Members of the tenant with their name and email, oldest first. */
  async list(tx: TenantTx): Promise<Member[]> {
    return tx.db
      .select({
        tenantId: memberships.tenantId,
        id: memberships.id,
        userId: memberships.userId,
        role: memberships.role,
        createdAt: memberships.createdAt,
        updatedAt: memberships.updatedAt,
        email: users.email,
        name: users.name,
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .orderBy(asc(memberships.createdAt), asc(memberships.id));
  },
};

/** The service role adds every member, the first owner of a new tenant included. */
export const membershipAdminRepository = {
  async add(tx: ServiceTx, tenantId: string, input: AddMemberInput): Promise<Membership> {
    const tenant = parseId(tenantId, 'tenant');
    const values = parseInput(addMemberSchema, input, 'membership');
    const [row] = await tx.db
      .insert(memberships)
      .values({ ...values, tenantId: tenant })
      .returning();
    return row!;
  },

  async listForUser(tx: ServiceTx, userId: string): Promise<Membership[]> {
    const id = parseId(userId, 'user');
    return tx.db
      .select()
      .from(memberships)
      .where(eq(memberships.userId, id))
      .orderBy(asc(memberships.createdAt));
  },
};
