import { z } from 'zod';
import { ConfigurationError } from '../errors/index.ts';
import { createWarningReporter, type ErrorReporter } from './report-error.ts';
import { DEFAULT_SESSION_TTL_MS } from './sessions.ts';

/** Options every adapter takes. */
export interface CommonCoordinationOptions {
  /**
   * Namespace of every key and channel, so that several deployments (or test runs) can share
   * one Redis: letters, digits and `_ . -`, never `:` (the delimiter after it, see
   * redis/keys.ts). Default `agentflow`.
   */
  prefix?: string;
  /** Default TTL of a login session. Default 24 h. */
  sessionTtlMs?: number;
  /** Where absorbed failures go (see ErrorReporter). Default: a throttled console.warn. */
  onError?: ErrorReporter;
}

export interface RedisConnectionTuning {
  /** Deadline of the first connection, and of each TCP connect. Default 5000. */
  connectTimeoutMs?: number;
  /** A health-check PING slower than this is a hung connection: it is replaced. Default 2000. */
  commandTimeoutMs?: number;
  /** How often the connection is health-checked. Default 1000. */
  healthCheckIntervalMs?: number;
  /** Upper bound of the (jittered, exponential) pause between reconnect attempts. Default 2000. */
  maxReconnectDelayMs?: number;
}

export interface RedisCoordinationOptions extends CommonCoordinationOptions, RedisConnectionTuning {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
}

const positiveMs = z.number().int().positive();

const commonShape = {
  prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]{1,64}$/,
      'must be 1-64 letters, digits, "_", "." or "-" (":" ends the prefix in every key, so a prefix holding it would reach into the keys of another)',
    )
    .default('agentflow'),
  sessionTtlMs: positiveMs.default(DEFAULT_SESSION_TTL_MS),
  onError: z.custom<ErrorReporter>((value) => typeof value === 'function', 'must be a function').optional(),
};

const tuningShape = {
  connectTimeoutMs: positiveMs.default(5000),
  commandTimeoutMs: positiveMs.default(2000),
  healthCheckIntervalMs: positiveMs.default(1000),
  maxReconnectDelayMs: positiveMs.default(2000),
};

const redisUrl = z.string().regex(/^rediss?:\/\/./, 'must be a redis:// or rediss:// URL');

export const commonOptionsSchema = z.strictObject(commonShape);
export const redisOptionsSchema = z.strictObject({ ...commonShape, ...tuningShape, url: redisUrl });
export const factoryOptionsSchema = z.strictObject({
  ...commonShape,
  ...tuningShape,
  redisUrl: redisUrl.optional(),
});

/** Validates options, filling defaults; bad options are a ConfigurationError naming each problem. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
): Omit<z.output<S>, 'onError'> & { onError: ErrorReporter } {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'} ${issue.message}`,
    );
    throw new ConfigurationError(`invalid coordination options: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  const output = parsed.data as z.output<S> & { onError?: ErrorReporter };
  return { ...output, onError: output.onError ?? createWarningReporter() };
}
