import { z } from 'zod';
import { slugSchema } from '../shared/validation.ts';
import { emailSchema, passwordSchema } from './users.contract.ts';

/** Body of `POST /v1/auth/login`: a member signs in to one tenant, named by its slug. */
export const loginSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  tenant: slugSchema,
});
export type LoginInput = z.input<typeof loginSchema>;
