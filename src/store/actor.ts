import { z } from 'zod';
import { uuidSchema } from '../shared/validation.ts';

/** Who acts in a tenant: a human user or an agent, named by id; recorded in every audit row. */
export const actorSchema = z.object({
  type: z.enum(['user', 'agent']),
  id: uuidSchema,
});
export type Actor = z.infer<typeof actorSchema>;

/** Optional request details copied into audit rows (request id, client address, user agent…). */
export const requestContextSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((context) => Object.keys(context).length <= 16, 'at most 16 entries');
export type RequestContext = z.infer<typeof requestContextSchema>;

export const tenantContextSchema = z.object({
  tenantId: uuidSchema,
  actor: actorSchema,
  request: requestContextSchema.optional(),
});
export type TenantContext = z.infer<typeof tenantContextSchema>;

export const serviceContextSchema = z.object({
  /** Names the maintenance job or operator, e.g. `cli:db seed`; recorded as the audit actor. */
  actor: z.string().trim().min(1).max(200),
  request: requestContextSchema.optional(),
});
export type ServiceContext = z.infer<typeof serviceContextSchema>;
