import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    check(
      'users_email_check',
      sql`${table.email} = lower(${table.email}) AND char_length(${table.email}) BETWEEN 3 AND 320 AND ${table.email} LIKE '_%@_%'`,
    ),
    check('users_name_check', sql`char_length(${table.name}) BETWEEN 1 AND 200`),
    check('users_avatar_url_check', sql`char_length(${table.avatarUrl}) <= 2048`),
    check('users_github_username_check', sql`char_length(${table.githubUsername}) <= 100`),
  ],
);

/** A user as the library hands it out: everything but the password hash. */
export type User = Omit<typeof users.$inferSelect, 'passwordHash'>;
