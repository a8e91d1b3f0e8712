import { getTableColumns, type Table } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiRoute, JsonSchema } from './route.ts';

const toJson = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Custom checks (JSON documents) have no JSON Schema: they are documented as any value.
    unrepresentable: 'any',
  }) as JsonSchema;
  return json;
};

const TYPE_BY_DATA_TYPE: Readonly<Record<string, JsonSchema>> = {
  string: { type: 'string' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  date: { type: 'string', format: 'date-time' },
  json: {},
  array: { type: 'array' },
  bigint: { type: 'string' },
};

/**
 * The JSON Schema of a row of `table` as the API returns it (the repository's row, JSON-encoded:
 * times as ISO text), from the Drizzle table, so it cannot drift from the columns. `omit` names
 * columns a repository never returns.
 */
export function rowSchema(table: Table, omit: readonly string[] = []): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, column] of Object.entries(getTableColumns(table))) {
    if (omit.includes(name)) continue;
    let schema: JsonSchema = { ...(TYPE_BY_DATA_TYPE[column.dataType] ?? {}) };
    if (column.columnType === 'PgUUID') schema.format = 'uuid';
    if (column.columnType === 'PgInteger' || column.columnType === 'PgBigInt53') schema.type = 'integer';
    if (column.columnType === 'PgNumeric') schema = { type: 'string', description: 'an exact decimal' };
    if (column.enumValues) schema.enum = [...column.enumValues];
    if (!column.notNull) schema = 'type' in schema ? { anyOf: [schema, { type: 'null' }] } : schema;
    properties[name] = schema;
    required.push(name);
  }
  return { type: 'object', properties, required };
}

/** A cursor page of `item`s. */
export function pageSchema(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: item },
      nextCursor: {
        anyOf: [{ type: 'string' }, { type: 'null' }],
        description: 'pass as `cursor` for the next page; null on the last page',
      },
    },
    required: ['items', 'nextCursor'],
  };
}

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `type` is the stable error code',
  properties: {
    type: { type: 'string', examples: ['validation_failed', 'not_found', 'duplicate'] },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'the request id' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        required: ['path', 'message'],
      },
    },
    entity: { type: 'string' },
    field: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail'],
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** Which problems each kind of route may answer, besides its success. */
function errorResponses(route: ApiRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    '422': problem('invalid input: `errors` names each field'),
    '500': problem('the server failed; nothing about it is disclosed beyond the request id'),
    '503': problem('the database or coordination store is unavailable, or the request timed out'),
  };
  if (route.kind !== 'public') {
    responses['401'] = problem('no, an invalid, revoked or expired credential');
    responses['429'] = problem('the credential spent its rate limit: see `Retry-After`');
  }
  if (route.kind === 'tenant') {
    responses['403'] = problem('refused by the database (row-level security, quota, read-only)');
    responses['404'] = problem('no such row in this tenant');
    responses['409'] = problem('a duplicate, a stale version or a forbidden transition');
  }
  if (route.kind === 'tenant' && route.ifMatch) responses['412'] = problem('`If-Match` names an old version');
  return responses;
}

/** The path's `{name}` form from Fastify's `:name`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(route: ApiRoute): unknown[] {
  const out: unknown[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
    ['header', route.headers],
  ] as const) {
    if (!schema) continue;
    const json = toJson(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {}))
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
        ...(where === 'query' && (property.type === 'array' || 'anyOf' in property)
          ? { style: 'form', explode: true }
          : {}),
      });
  }
  if (route.method === 'POST' && route.kind === 'tenant' && !route.refusesIdempotencyKey)
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'a retry with the same key returns the first response (24 hours, per tenant)',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  if (route.kind === 'tenant' && route.ifMatch)
    out.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'the ETag of the version read: the write is refused with 412 if the row changed since',
      schema: { type: 'string' },
    });
  return out;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

/** The OpenAPI 3.1 document of `routes`, from the same zod contracts that validate them. */
export function buildOpenApiDocument(
  routes: readonly ApiRoute[],
  info: OpenApiInfo,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const status = String(route.status ?? 200);
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: parameters(route),
      responses: {
        [status]:
          status === '204'
            ? { description: 'done' }
            : {
                description: 'success',
                content: { [route.responseType ?? 'application/json']: { schema: route.response ?? {} } },
              },
        ...errorResponses(route),
      },
      ...(route.kind === 'public' ? { security: [] } : {}),
    };
    if (route.body)
      operation.requestBody = {
        // A body whose every field is optional may be left out (the server reads it as {}).
        required: !route.body.safeParse({}).success,
        content: { 'application/json': { schema: toJson(route.body) } },
      };
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: "an agent's API key (afk_…) or a member's login session token",
        },
      },
    },
    security: [{ bearer: [] }],
  };
}
