// The tenancy domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './login-sessions.contract.ts';
export * from './memberships.contract.ts';
export { MEMBERSHIP_ROLES, type Member, type Membership, type MembershipRole } from './memberships.schema.ts';
export * from './tenants.contract.ts';
export {
  TENANT_PLANS,
  TENANT_STATUSES,
  type Tenant,
  type TenantPlan,
  type TenantStatus,
} from './tenants.schema.ts';
export * from './users.contract.ts';
export type { User } from './users.schema.ts';
