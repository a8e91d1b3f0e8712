import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  type CreateMembershipInput,
  createMembershipSchema,
  type ListMembershipsInput,
  listMembershipsSchema,
  type UpdateMembershipInput,
  updateMembershipSchema,
} from './memberships.contract.ts';
import { type Member, type Membership, memberships } from './memberships.schema.ts';
import { users } from './users.schema.ts';

// Oldest first: (created_at, id). Members added in one transaction share created_at; the id breaks the tie.
const membershipsKey = z.tuple([cursorTimestamp, uuidSchema]);
const keyOf = (row: Membership) => [row.createdAt.toISOString(), row.id] as const;

/** Rows after the cursor's membership in (created_at, id) order. */
function afterCursor(list: string, cursor: string): SQL {
  const [at, id] = decodeCursor(list, cursor, membershipsKey);
  const exact = exactTimestamp(memberships.createdAt, memberships.id, at, id);
  return sql`(${memberships.createdAt}, ${memberships.id}) > (${exact}, ${id})`;
}

/**
 * Membership of users in the current tenant. A tenant cannot add members: it could name any user
 * and then read their email and name, so creating one is for the service role
 * (membershipAdminRepository).
 */
export const membershipsRepository = {
  /** Changes the role of the member `userId`. */
  async update(tx: TenantScope, userId: string, patch: UpdateMembershipInput): Promise<Membership> {
    const id = parseId(userId, 'user');
    const values = parseInput(updateMembershipSchema, patch, 'membership update');
    const [row] = await tx.db.update(memberships).set(values).where(eq(memberships.userId, id)).returning();
    if (!row) throw new NotFoundError('membership', id);
    return row;
  },

  /** Removes the member `userId` from the tenant (the user stays). */
  async delete(tx: TenantScope, userId: string): Promise<void> {
    const id = parseId(userId, 'user');
    const removed = await tx.db
      .delete(memberships)
      .where(eq(memberships.userId, id))
      .returning({ id: memberships.id });
    if (removed.length === 0) throw new NotFoundError('membership', id);
  },

  /** One page of the tenant's members with their name and email, oldest first. */
  async list(tx: TenantScope, input: ListMembershipsInput = {}): Promise<Page<Member>> {
    const query = parseInput(listMembershipsSchema, input, 'membership list');
    const rows = await tx.db
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
      .where(query.cursor ? afterCursor('memberships', query.cursor) : undefined)
      .orderBy(asc(memberships.createdAt), asc(memberships.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'memberships', keyOf);
  },
};

/** The service role creates every membership, the first owner of a new tenant included. */
export const membershipAdminRepository = {
  async create(tx: ServiceScope, tenantId: string, input: CreateMembershipInput): Promise<Membership> {
    const tenant = parseId(tenantId, 'tenant');
    const values = parseInput(createMembershipSchema, input, 'membership');
    const [row] = await tx.db
      .insert(memberships)
      .values({ ...values, tenantId: tenant })
      .returning();
    return row!;
  },

  /** The membership of `userId` in `tenantId` (a login checks it). */
  async get(tx: ServiceScope, tenantId: string, userId: string): Promise<Membership> {
    const tenant = parseId(tenantId, 'tenant');
    const user = parseId(userId, 'user');
    const [row] = await tx.db
      .select()
      .from(memberships)
      .where(and(eq(memberships.tenantId, tenant), eq(memberships.userId, user)));
    if (!row) throw new NotFoundError('membership', user);
    return row;
  },

  /** One page of the memberships of `userId` in every tenant, oldest first. */
  async listForUser(
    tx: ServiceScope,
    userId: string,
    input: ListMembershipsInput = {},
  ): Promise<Page<Membership>> {
    const id = parseId(userId, 'user');
    const query = parseInput(listMembershipsSchema, input, 'membership list');
    const conditions: SQL[] = [eq(memberships.userId, id)];
    if (query.cursor) conditions.push(afterCursor('user memberships', query.cursor));
    const rows = await tx.db
      .select()
      .from(memberships)
      .where(and(...conditions))
      .orderBy(asc(memberships.createdAt), asc(memberships.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'user memberships', keyOf);
  },
};
