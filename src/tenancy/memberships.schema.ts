import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { sqlValues } from '../shared/check-values.ts';
import { scopedIdColumn, tenantIdColumn, tenantKeys, timestampColumns } from '../shared/columns.ts';
import { tenants } from './tenants.schema.ts';
import { users } from './users.schema.ts';

/** owner is the human "CEO" of the company; service is a machine account. */
export const MEMBERSHIP_ROLES = ['owner', 'admin', 'manager', 'member', 'service'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

export const memberships = pgTable(
  'memberships',
  {
    tenantId: tenantIdColumn().references(() => tenants.id, { onDelete: 'cascade' }),
    id: scopedIdColumn(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: MEMBERSHIP_ROLES }).notNull(),
    ...timestampColumns(),
  },
  (table) => [
    ...tenantKeys(table),
    unique('memberships_user_key').on(table.tenantId, table.userId),
    index('memberships_user_idx').on(table.userId),
    check('memberships_role_check', sql`${table.role} IN (${sqlValues(MEMBERSHIP_ROLES)})`),
  ],
);

export type Membership = typeof memberships.$inferSelect;

/** A membership with the member's name and email, as a tenant lists its members. */
export interface Member extends Membership {
  email: string;
  name: string;
}
