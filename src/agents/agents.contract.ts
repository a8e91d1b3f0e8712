import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, nameSchema, uuidSchema } from '../shared/validation.ts';
import { AGENT_LEVELS, AGENT_STATUSES, AGENT_TYPES, type AgentStatus } from './agents.schema.ts';

/**
 * The agent lifecycle: which status may follow which. `terminated` is final. The database enforces
 * the same list (the agents_lifecycle trigger, migration 6) for every writer.
 */
export const AGENT_TRANSITIONS: Readonly<Record<AgentStatus, readonly AgentStatus[]>> = {
  active: ['probation', 'inactive', 'terminated'],
  probation: ['active', 'inactive', 'terminated'],
  inactive: ['active', 'probation', 'terminated'],
  terminated: [],
};

/** The most capabilities one agent holds (a CHECK of the table). */
export const MAX_AGENT_CAPABILITIES = 100;

export const agentTypeSchema = z.enum(AGENT_TYPES);
export const agentLevelSchema = z.enum(AGENT_LEVELS);
export const agentStatusSchema = z.enum(AGENT_STATUSES);

/** An agent's code: its name for good in the tenant (keys, logs), like a slug but up to 100 characters. */
export const agentCodeSchema = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$/,
    'lowercase letters, digits and inner hyphens, at most 100 characters',
  );

/**
 * A capability tag (`python`, `code-review`, `c++`): lowercase, so that "agents with capability X"
 * never misses one spelled in another case; stored as given.
 */
export const capabilitySchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._+#/-]{0,99}$/,
    'lowercase letters, digits and . _ + # / -, starting with a letter or digit, at most 100 characters',
  );

const capabilitiesSchema = z
  .array(capabilitySchema)
  .max(MAX_AGENT_CAPABILITIES)
  .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a capability');

const agentFields = {
  name: nameSchema,
  roleTitle: nameSchema,
  modelProvider: nameSchema.max(100).nullable().optional(),
  modelName: nameSchema.nullable().optional(),
  capabilities: capabilitiesSchema.optional(),
  settings: jsonObjectSchema.optional(),
};

/**
 * Input of `agents.create`. The level follows from `projectId` (none: organization; one: project);
 * a `level` given as well must agree with it. A new agent is active unless it starts on probation
 * or inactive.
 */
export const createAgentSchema = z
  .strictObject({
    code: agentCodeSchema,
    type: agentTypeSchema,
    level: agentLevelSchema.optional(),
    projectId: uuidSchema.nullable().optional(),
    status: z.enum(['active', 'probation', 'inactive']).optional(),
    ...agentFields,
  })
  .refine((input) => input.level === undefined || (input.level === 'organization') === !input.projectId, {
    path: ['level'],
    message: 'an organization agent has no projectId, a project agent has one',
  });
export type CreateAgentInput = z.input<typeof createAgentSchema>;

/**
 * Input of `agents.update`: any subset of these fields. Status has its own verb (`changeStatus`);
 * level, project and code stay as created; the trust score is the KPI recompute's alone.
 */
export const updateAgentSchema = z.strictObject({
  ...agentFields,
  name: nameSchema.optional(),
  roleTitle: nameSchema.optional(),
});
export type UpdateAgentInput = z.input<typeof updateAgentSchema>;

/**
 * Input of `agents.list`: live agents in code order, filtered by status, type, level, project and
 * capabilities: every one of `capabilities` (`capabilityMatch: 'all'`, the default) or any of them.
 */
export const listAgentsSchema = z.strictObject({
  status: agentStatusSchema.optional(),
  type: agentTypeSchema.optional(),
  level: agentLevelSchema.optional(),
  projectId: uuidSchema.optional(),
  capabilities: capabilitiesSchema.min(1).optional(),
  capabilityMatch: z.enum(['all', 'any']).default('all'),
  ...pageFields,
});
export type ListAgentsInput = z.input<typeof listAgentsSchema>;
