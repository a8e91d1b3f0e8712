import { z } from 'zod';
import { nameSchema, passwordSchema } from '../shared/validation.ts';

export { passwordSchema };

export const emailSchema = z
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

/** Input of `users.create` (service role); the password is stored only as a slow hash. */
export const createUserSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema.optional(),
  ...profileFields,
});
export type CreateUserInput = z.input<typeof createUserSchema>;

/** Input of `users.update` (service role): any subset of the profile and the email. */
export const updateUserSchema = z.strictObject({
  ...profileFields,
  name: nameSchema.optional(),
  email: emailSchema.optional(),
});
export type UpdateUserInput = z.input<typeof updateUserSchema>;
