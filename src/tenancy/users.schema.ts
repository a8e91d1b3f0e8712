import { sql } from 'drizzle-orm';
import { bigint, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { deletedAtColumn, timestampColumns } from '../shared/columns.ts';
import { secretText } from '../shared/secret.ts';

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    /** Readable only by the service role; never returned by a repository. */
    passwordHash: secretText('password_hash'),
    name: text('name').notNull(),
    avatarUrl: text('avatar_url'),
    githubId: bigint('github_id', { mode: 'number' }),
    githubUsername: text('github_username'),
    ...timestampColumns(),
    deletedAt: deletedAtColumn(),
  },
  (table) => [
    uniqueIndex('users_email_live_key').on(table.email).where(sql`deleted_at IS NULL`),
    uniqueIndex('users_github_id_live_key')
      .on(table.githubId)
      .where(sql`github_id IS NOT NULL AND deleted_at IS NULL`),
  ],
);

/** A user as the library hands it out: everything but the password hash. */
export type User = Omit<typeof users.$inferSelect, 'passwordHash'>;
