import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { uuidSchema } from '../shared/validation.ts';
import { MEMBERSHIP_ROLES } from './memberships.schema.ts';

export const membershipRoleSchema = z.enum(MEMBERSHIP_ROLES);

/** Input of `memberships.create` (service role), besides the tenant id. */
export const createMembershipSchema = z.strictObject({ userId: uuidSchema, role: membershipRoleSchema });
export type CreateMembershipInput = z.input<typeof createMembershipSchema>;

/** Input of `memberships.update` (tenant), besides the member's user id. */
export const updateMembershipSchema = z.strictObject({ role: membershipRoleSchema });
export type UpdateMembershipInput = z.input<typeof updateMembershipSchema>;

/** Input of `memberships.list` and `memberships.listForUser`: oldest first. */
export const listMembershipsSchema = z.strictObject({ ...pageFields });
export type ListMembershipsInput = z.input<typeof listMembershipsSchema>;
