import { and, eq, getTableColumns, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { nameSchema, parseId, parseInput, passwordSchema } from '../shared/validation.ts';
import type { ServiceTx, TenantTx } from '../store/unit-of-work.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './password-hash.ts';
import { type User, users } from './users.schema.ts';

const { passwordHash: _secret, ...publicColumns } = getTableColumns(users);

const emailSchema = z
  .string()
  .trim()
  .max(320)
  .transform((email) => email.toLowerCase())
  .pipe(z.email());
const profileFields = {
  name: nameSchema,
  avatarUrl: z.url().max(2048).nullable().optional(),
  githubId: z.number().int().positive().nullable().optional(),
  githubUsername: z.string().min(1).max(100).nullable().optional(),
};
const createUserSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema.optional(),
  ...profileFields,
});
export type CreateUserInput = z.input<typeof createUserSchema>;
const updateUserSchema = z.strictObject({
  ...profileFields,
  name: nameSchema.optional(),
  email: emailSchema.optional(),
});
export type UpdateUserInput = z.input<typeof updateUserSchema>;

const selectLiveUser = compileStatement(publicColumns, ['id'], (db, p) =>
  db
    .select(publicColumns)
    .from(users)
    .where(and(eq(users.id, p.id), isNull(users.deletedAt))),
);

async function liveUser(tx: TenantTx | ServiceTx, id: string): Promise<User> {
  const [row] = await selectLiveUser.run(tx, { id });
  if (!row) throw new NotFoundError('user', id);
  return row;
}

/** Inside a tenant: the users who are members of it (row-level security hides the others). */
export const usersRepository = {
  async get(tx: TenantTx, id: string): Promise<User> {
    return liveUser(tx, parseId(id, 'user'));
  },
};

/** Users are global identities, managed by the service role. Password hashes never leave it. */
export const userAdminRepository = {
  async create(tx: ServiceTx, input: CreateUserInput): Promise<User> {
    const { password, ...values } = parseInput(createUserSchema, input, 'user');
    const passwordHash = password === undefined ? null : await hashPassword(password);
    const [row] = await tx.db
      .insert(users)
      .values({ ...values, passwordHash })
      .returning(publicColumns);
    return row!;
  },

  async get(tx: ServiceTx, id: string): Promise<User> {
    return liveUser(tx, parseId(id, 'user'));
  },

  async getByEmail(tx: ServiceTx, email: string): Promise<User> {
    const value = parseInput(emailSchema, email, 'email');
    const [row] = await tx.db
      .select(publicColumns)
      .from(users)
      .where(and(eq(users.email, value), isNull(users.deletedAt)));
    if (!row) throw new NotFoundError('user', value);
    return row;
  },

  async update(tx: ServiceTx, id: string, patch: UpdateUserInput): Promise<User> {
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

  async setPassword(tx: ServiceTx, id: string, password: string): Promise<void> {
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
  async verifyPassword(tx: ServiceTx, email: string, password: string): Promise<User | null> {
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
  async softDelete(tx: ServiceTx, id: string): Promise<void> {
    const userId = parseId(id, 'user');
    const updated = await tx.db
      .update(users)
      .set({ deletedAt: new Date() })
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFoundError('user', userId);
  },
};
