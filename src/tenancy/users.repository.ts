import { and, eq, getTableColumns, isNull } from 'drizzle-orm';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './password-hash.ts';
import {
  type CreateUserInput,
  createUserSchema,
  emailSchema,
  passwordSchema,
  type UpdateUserInput,
  updateUserSchema,
} from './users.contract.ts';
import { type User, users } from './users.schema.ts';

const { passwordHash: _secret, ...publicColumns } = getTableColumns(users);

const selectLiveUser = compileStatement(publicColumns, ['id'], (db, p) =>
  db
    .select(publicColumns)
    .from(users)
    .where(and(eq(users.id, p.id), isNull(users.deletedAt))),
);

async function liveUser(tx: TenantScope | ServiceScope, id: string): Promise<User> {
  const [row] = await selectLiveUser.run(tx, { id });
  if (!row) throw new NotFoundError('user', id);
  return row;
}

/** Inside a tenant: the users who are members of it (row-level security hides the others). */
export const usersRepository = {
  async get(tx: TenantScope, id: string): Promise<User> {
    return liveUser(tx, parseId(id, 'user'));
  },
};

/** Users are global identities, managed by the service role. Password hashes never leave it. */
export const userAdminRepository = {
  async create(tx: ServiceScope, input: CreateUserInput): Promise<User> {
    const { password, ...values } = parseInput(createUserSchema, input, 'user');
    const passwordHash = password === undefined ? null : await hashPassword(password);
    const [row] = await tx.db
      .insert(users)
      .values({ ...values, passwordHash })
      .returning(publicColumns);
    return row!;
  },

  async get(tx: ServiceScope, id: string): Promise<User> {
    return liveUser(tx, parseId(id, 'user'));
  },

  async getByEmail(tx: ServiceScope, email: string): Promise<User> {
    const value = parseInput(emailSchema, email, 'email');
    const [row] = await tx.db
      .select(publicColumns)
      .from(users)
      .where(and(eq(users.email, value), isNull(users.deletedAt)));
    if (!row) throw new NotFoundError('user', value);
    return row;
  },

  async update(tx: ServiceScope, id: string, patch: UpdateUserInput): Promise<User> {
    const userId = parseId(id, 'user');
    const values = parseInput(updateUserSchema, patch, 'user update');
    const [row] = await tx.db
      .update(users)
      .set(values)
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning(publicColumns);
    if (!row) throw new NotFoundError('user', userId);
    return row;
  },

  async setPassword(tx: ServiceScope, id: string, password: string): Promise<void> {
    const userId = parseId(id, 'user');
    const passwordHash = await hashPassword(parseInput(passwordSchema, password, 'password'));
    const updated = await tx.db
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFoundError('user', userId);
  },

  /**
   * The user whose email and password match, or null. An unknown email costs the same hash
   * computation as a wrong password, so the timing does not reveal which emails exist.
   */
  async verifyPassword(tx: ServiceScope, email: string, password: string): Promise<User | null> {
    const parsedEmail = emailSchema.safeParse(email);
    const [row] = parsedEmail.success
      ? await tx.db
          .select({ ...publicColumns, passwordHash: users.passwordHash })
          .from(users)
          .where(and(eq(users.email, parsedEmail.data), isNull(users.deletedAt)))
      : [];
    const matches = await verifyPassword(String(password), row?.passwordHash ?? (await decoyPasswordHash()));
    if (!row?.passwordHash || !matches) return null;
    const { passwordHash: _hash, ...user } = row;
    return user;
  },

  /** Soft delete: the email becomes free for a new account; memberships stay for the record. */
  async delete(tx: ServiceScope, id: string): Promise<void> {
    const userId = parseId(id, 'user');
    const updated = await tx.db
      .update(users)
      .set({ deletedAt: new Date() })
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFoundError('user', userId);
  },
};
