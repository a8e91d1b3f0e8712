import { projectRoutes } from '../projects/projects.routes.ts';
import { loginSessionRoutes } from '../tenancy/login-sessions.routes.ts';
import type { ApiRoute } from './route.ts';

/**
 * Every route of the API, one line per domain: a domain's `*.routes.ts` declares its routes next to
 * its contracts, and adds its line here. The coverage test fails when a tenant repository function
 * has no route and is not listed in INTERNAL_OPERATIONS.
 */
export const apiRoutes: readonly ApiRoute[] = [...loginSessionRoutes, ...projectRoutes];

/** Tenant repository functions with no route, and why. */
export const INTERNAL_OPERATIONS: Readonly<Record<string, string>> = {
  'idempotencyKeys.claim': 'the server claims the Idempotency-Key of every POST itself',
  'idempotencyKeys.complete': 'the server stores the response of every POST with an Idempotency-Key itself',
};
