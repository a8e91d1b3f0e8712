import { z } from 'zod';
import { pageFields } from '../shared/pagination.ts';
import { jsonObjectSchema, uuidSchema } from '../shared/validation.ts';
import { EXECUTION_STATUSES, FINAL_EXECUTION_STATUSES } from './task-executions.schema.ts';

/**
 * US dollars as exact decimal text, as numeric(14,6) holds them: up to 8 digits before the point
 * and 6 after, no sign, no exponent ("0.0125", "12", "3.000001").
 */
export const COST_USD_PATTERN = /^(0|[1-9][0-9]{0,7})(\.[0-9]{1,6})?$/;

/**
 * A cost. Only a string: a JSON number is refused, not converted, because by the time it is a
 * number it may already be a rounded binary float (0.1 + 0.2 is 0.30000000000000004); the cost is
 * exact from the caller's text to the database's numeric and back.
 */
export const costUsdSchema = z
  .string()
  .regex(
    COST_USD_PATTERN,
    'US dollars as a decimal string ("0.0125"): at most 8 digits before the point and 6 after; numbers are refused',
  );

/** A token count: a whole number ≥ 0 (bigint in the database). */
export const tokenCountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Tokens by kind and cost, each optional: what a report of usage adds to an execution. */
const usageFields = {
  inputTokens: tokenCountSchema.optional(),
  outputTokens: tokenCountSchema.optional(),
  cachedTokens: tokenCountSchema.optional(),
  reasoningTokens: tokenCountSchema.optional(),
  costUsd: costUsdSchema.optional(),
};

/** Input of `taskExecutions.create`: a run recorded pending (queued) or running (started). */
export const createTaskExecutionSchema = z.strictObject({
  taskId: uuidSchema,
  /** The agent that runs; defaults to the acting agent (an agent records only its own runs). */
  agentId: uuidSchema.optional(),
  /** The agent's open work session; defaults to its open session in the task's project, if any. */
  sessionId: uuidSchema.optional(),
  status: z.enum(['pending', 'running']).default('pending'),
  input: jsonObjectSchema.optional(),
  /** Default to the agent's model when both are absent. */
  modelProvider: z.string().min(1).max(100).optional(),
  modelName: z.string().min(1).max(200).optional(),
  /** Usage so far: only for a run recorded as running. */
  ...usageFields,
});
export type CreateTaskExecutionInput = z.input<typeof createTaskExecutionSchema>;

/** Input of `taskExecutions.recordUsage`: amounts added to a running execution's tokens and cost. */
export const recordUsageSchema = z.strictObject(usageFields);
export type RecordUsageInput = z.input<typeof recordUsageSchema>;

/** Input of `taskExecutions.finish`: the outcome, and the last usage to add (a running run's). */
export const finishTaskExecutionSchema = z.strictObject({
  status: z.enum(FINAL_EXECUTION_STATUSES),
  output: jsonObjectSchema.optional(),
  /** Only with failure or timeout. */
  error: jsonObjectSchema.optional(),
  ...usageFields,
});
export type FinishTaskExecutionInput = z.input<typeof finishTaskExecutionSchema>;

const statusSchema = z.enum(EXECUTION_STATUSES);

/** Input of `taskExecutions.list`: newest first, of one task and/or agent, optionally of some statuses. */
export const listTaskExecutionsSchema = z.strictObject({
  taskId: uuidSchema.optional(),
  agentId: uuidSchema.optional(),
  status: z.union([statusSchema, z.array(statusSchema).min(1).max(EXECUTION_STATUSES.length)]).optional(),
  ...pageFields,
});
export type ListTaskExecutionsInput = z.input<typeof listTaskExecutionsSchema>;

/** Input of `taskExecutions.agentHistory`: the page of an agent's runs, newest first. */
export const agentHistorySchema = z.strictObject({ ...pageFields });
export type AgentHistoryInput = z.input<typeof agentHistorySchema>;

/** The dimensions of the cost report; `tenant` is the tenant's total. */
export const COST_DIMENSIONS = ['tenant', 'project', 'agent', 'model'] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

/** Input of `taskExecutions.costReport`: UTC days `from` (included) to `to` (excluded), YYYY-MM-DD. */
export const costReportSchema = z
  .strictObject({
    from: z.iso.date(),
    to: z.iso.date(),
    /** The dimensions to report (one query for all); every one when absent. */
    groupBy: z.array(z.enum(COST_DIMENSIONS)).min(1).max(COST_DIMENSIONS.length).optional(),
  })
  .refine((range) => range.from < range.to, { message: 'must be after from', path: ['to'] });
export type CostReportInput = z.input<typeof costReportSchema>;
