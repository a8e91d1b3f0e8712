import type { FastifyError } from 'fastify';
import { CoordinationUnavailableError } from '../coordination/errors.ts';
import {
  AgentflowError,
  AuthenticationError,
  ConflictError,
  ConnectionError,
  DatabaseError,
  ForbiddenError,
  NotFoundError,
  SchemaVersionError,
  ValidationError,
} from '../errors/index.ts';

/** An error response as RFC 9457 `application/problem+json`; `type` is the error's stable code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request id, as returned in `X-Request-Id`. */
  instance?: string;
  /** The field-level issues of a 422. */
  errors?: ReadonlyArray<{ path: string; message: string }>;
  /** The kind of record concerned, where known (`project`, `agent`…). */
  entity?: string;
  /** The field whose value collides (a 409 duplicate), where known. */
  field?: string;
}

/** What an error becomes over HTTP: the problem, and the headers that go with it. */
export interface ProblemResponse {
  problem: Problem;
  headers: Record<string, string>;
}

interface StatusRule {
  status: number;
  title: string;
  /** Seconds a client should wait before trying again, for errors that may pass later. */
  retryAfter?: (error: AgentflowError) => number;
}

const SECONDS = (ms: number | undefined) => Math.max(1, Math.ceil((ms ?? 1000) / 1000));

/**
 * The one table from library errors to HTTP statuses. Quotas are 403, not 429: a full quota does
 * not empty by waiting, so a retry would only fail again. Rate limits (per key, per address) are 429.
 */
const STATUS_BY_CLASS: ReadonlyArray<[new (...args: never[]) => AgentflowError, StatusRule]> = [
  [ValidationError, { status: 422, title: 'Unprocessable content' }],
  [NotFoundError, { status: 404, title: 'Not found' }],
  [ConflictError, { status: 409, title: 'Conflict', retryAfter: (e) => (e.retryable ? 1 : 0) }],
  [ForbiddenError, { status: 403, title: 'Forbidden' }],
  [AuthenticationError, { status: 401, title: 'Unauthorized' }],
  [ConnectionError, { status: 503, title: 'Service unavailable', retryAfter: () => 1 }],
  [CoordinationUnavailableError, { status: 503, title: 'Service unavailable', retryAfter: () => 1 }],
  [SchemaVersionError, { status: 503, title: 'Service unavailable' }],
];

/** Codes whose status differs from their class's. */
const STATUS_BY_CODE: Readonly<Record<string, StatusRule>> = {
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    retryAfter: (e) => SECONDS((e as AuthenticationError).retryAfterMs),
  },
  // The key's agent was terminated or deleted after its key was verified (and cached): the
  // credential no longer names anyone who may act, as when verification itself says so.
  actor_unavailable: { status: 401, title: 'Unauthorized' },
  // `If-Match` named another version than the row's current one (server.ts).
  precondition_failed: { status: 412, title: 'Precondition failed' },
};

/** SQLSTATE 57014: the server cancelled a statement that ran past the statement timeout. */
const QUERY_CANCELED = '57014';

/** Fastify's own request failures (before any handler ran), by their code. */
const FRAMEWORK_ERRORS: Readonly<Record<string, { status: number; type: string; title: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, type: 'payload_too_large', title: 'Content too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    type: 'unsupported_media_type',
    title: 'Unsupported media type',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, type: 'invalid_json', title: 'Bad request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, type: 'invalid_json', title: 'Bad request' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, type: 'bad_request', title: 'Bad request' },
};

/**
 * The problem to send for `error`. Only errors the library throws on purpose say what happened;
 * anything else is a 500 whose detail names no SQL, stack or internal message (it is logged).
 */
export function toProblem(error: unknown, requestId: string): ProblemResponse {
  const headers: Record<string, string> = {};
  if (error instanceof DatabaseError && error.sqlState === QUERY_CANCELED)
    return {
      problem: {
        type: 'timeout',
        title: 'Service unavailable',
        status: 503,
        detail: 'the request took longer than the server allows and was cancelled; nothing was written',
        instance: requestId,
      },
      headers: { 'retry-after': '1' },
    };
  if (error instanceof AgentflowError && !(error instanceof DatabaseError)) {
    const rule = STATUS_BY_CODE[error.code] ?? STATUS_BY_CLASS.find(([type]) => error instanceof type)?.[1];
    if (rule) {
      const retryAfter = rule.retryAfter?.(error) ?? 0;
      if (retryAfter > 0) headers['retry-after'] = String(retryAfter);
      if (rule.status === 401) headers['www-authenticate'] = `Bearer error="invalid_token"`;
      return {
        problem: {
          type: error.code,
          title: rule.title,
          status: rule.status,
          detail: error.message,
          instance: requestId,
          ...(error instanceof ValidationError ? { errors: error.issues } : {}),
          ...(error.entity ? { entity: error.entity } : {}),
          ...(error instanceof ConflictError && error.field ? { field: error.field } : {}),
        },
        headers,
      };
    }
  }
  const framework = FRAMEWORK_ERRORS[(error as FastifyError | undefined)?.code ?? ''];
  if (framework)
    return {
      problem: { ...framework, detail: (error as Error).message, instance: requestId },
      headers,
    };
  return {
    problem: {
      type: 'internal_error',
      title: 'Internal server error',
      status: 500,
      detail: 'the server failed to handle the request; it is logged under this request id',
      instance: requestId,
    },
    headers,
  };
}
