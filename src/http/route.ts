import { and, eq } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Coordination } from '../coordination/index.ts';
import { uuidSchema } from '../shared/validation.ts';
import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import type { Principal } from './principal.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A JSON Schema, as OpenAPI 3.1 takes it. */
export type JsonSchema = Record<string, unknown>;

/** What a route declares about its input and output: the contracts, reused, never copied. */
interface RouteShape {
  method: HttpMethod;
  /** Fastify syntax: `/v1/projects/:projectId`. */
  path: string;
  /** Unique, stable: the OpenAPI operationId, e.g. `projects.create`. */
  operationId: string;
  /** The OpenAPI tag: the domain (`projects`, `agents`…). */
  tag: string;
  summary: string;
  /** Path parameters; each value arrives as text. */
  params?: z.ZodObject;
  /** Query parameters: numbers, booleans and lists are converted from text before parsing. */
  query?: z.ZodObject;
  /** The JSON body: the domain's exported input contract. */
  body?: z.ZodType;
  /** The success status: 200 by default, 201 for a create; 204 when the handler returns nothing. */
  status?: 200 | 201 | 202 | 204;
  /** The success body's JSON Schema, for the OpenAPI document. */
  response?: JsonSchema;
  /** The success body's media type, for the OpenAPI document: application/json unless said. */
  responseType?: string;
  /** Request headers the route reads, for the OpenAPI document (the handler parses them). */
  headers?: z.ZodObject;
  /**
   * Why this POST refuses `Idempotency-Key` (422): its response must never be stored, as a new
   * API key's must not.
   */
  refusesIdempotencyKey?: string;
}

/** What a tenant route's handler receives: the request's unit of work and its parsed input. */
export interface TenantRouteContext {
  tx: TenantTx;
  principal: Principal;
  // Parsed by the route's schemas; typed loosely here and narrowed by each handler's contract.
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  request: FastifyRequest;
  reply: FastifyReply;
  services: ServerServices;
}

/** Runs in the caller's tenant, as the caller, in one unit of work (read-only for GET). */
export interface TenantRoute extends RouteShape {
  kind: 'tenant';
  /** The tenant repository functions (`projects.create`) this route performs. */
  covers: readonly string[];
  /**
   * The handler runs exactly one SQL statement (one repository call that sends one): the unit's
   * set-up, the statement and COMMIT then travel together, one round trip instead of two. A second
   * statement would be refused (UsageError, a 500), which every route's tests would show.
   */
  singleStatement?: true;
  /**
   * Conditional writes: the row the route changes, locked before `If-Match` is compared with the
   * ETag of its current representation (`current`), so no write slips in between.
   */
  ifMatch?: {
    lock: (ctx: TenantRouteContext) => Promise<void>;
    current: (ctx: TenantRouteContext) => Promise<unknown>;
  };
  handler: (ctx: TenantRouteContext) => Promise<unknown>;
}

/** What the server hands a route that is not one unit of work. */
export interface ServerServices {
  store: Store;
  coordination: Coordination;
  /** Stops this server trusting a cached verification of the credential's keys (revoked, rotated). */
  forgetCredential(credentialId: string): void;
  /** Aborted when the server starts closing: a long-lived response (a stream) ends then. */
  closing: AbortSignal;
}

/** Needs no credential (login) and opens no unit of work itself. */
export interface PublicRoute extends RouteShape {
  kind: 'public';
  handler: (
    ctx: ServerServices & { body: unknown; request: FastifyRequest; reply: FastifyReply },
  ) => Promise<unknown>;
}

/** Authenticated, but manages its own units of work and response (streams, logout). */
export interface SessionRoute extends RouteShape {
  kind: 'session';
  /** The tenant repository functions this route performs, if any. */
  covers?: readonly string[];
  handler: (
    ctx: ServerServices & {
      principal: Principal;
      query: Record<string, unknown>;
      body: unknown;
      request: FastifyRequest;
      reply: FastifyReply;
    },
  ) => Promise<unknown>;
}

export type ApiRoute = TenantRoute | PublicRoute | SessionRoute;

/** Declares a tenant route (the common kind); the function only fills in `kind`. */
export function tenantRoute(route: Omit<TenantRoute, 'kind'>): TenantRoute {
  return { kind: 'tenant', ...route };
}

type QueryKind = 'number' | 'boolean' | 'list' | 'one-or-list' | 'text';

// biome-ignore lint/suspicious/noExplicitAny: zod's internal definition, read for its type only.
type AnyDef = { type: string; innerType?: any; in?: any; options?: any[] };
const defOf = (schema: unknown): AnyDef => (schema as { _zod: { def: AnyDef } })._zod.def;

/** What kind of value a query field's schema takes, looking through optional/default/pipe. */
function queryKind(schema: unknown): QueryKind {
  let def = defOf(schema);
  while (def.innerType || def.type === 'pipe') def = defOf(def.type === 'pipe' ? def.in : def.innerType);
  if (def.type === 'number' || def.type === 'int' || def.type === 'bigint') return 'number';
  if (def.type === 'boolean') return 'boolean';
  if (def.type === 'array') return 'list';
  if (def.type === 'union' && def.options?.some((option) => queryKind(option) === 'list'))
    return 'one-or-list';
  return 'text';
}

const kindsBySchema = new WeakMap<z.ZodObject, Record<string, QueryKind>>();

/**
 * A query string's values as the contract takes them: `limit=10` as 10, `archived=true` as true,
 * a list field from repeated keys (`type=a&type=b`) or from one comma-separated value. Text that
 * is not a number or boolean is left as it is, so the contract reports it naming the field.
 */
export function coerceQuery(schema: z.ZodObject, raw: Record<string, unknown>): Record<string, unknown> {
  let kinds = kindsBySchema.get(schema);
  if (!kinds) {
    kinds = Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => [key, queryKind(field)]));
    kindsBySchema.set(schema, kinds);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const kind = kinds[key];
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    if (kind === 'list' || (kind === 'one-or-list' && (values.length > 1 || values[0]?.includes(','))))
      out[key] = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
    else if (values.length > 1) out[key] = values;
    else if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(values[0]!)) out[key] = Number(values[0]);
    else if (kind === 'boolean' && (values[0] === 'true' || values[0] === 'false'))
      out[key] = values[0] === 'true';
    else out[key] = values[0];
  }
  return out;
}

/** Path parameters that are all ids (uuid), named as in the path: `idParams('projectId')`. */
export function idParams(...names: string[]): z.ZodObject {
  return z.strictObject(Object.fromEntries(names.map((name) => [name, uuidSchema])));
}

interface KeyedTable {
  tenantId: AnyPgColumn;
  id: AnyPgColumn;
}

/**
 * `ifMatch.lock` for a row of `table` whose id is the path parameter `param`: SELECT … FOR UPDATE,
 * so the version compared is the one the write changes. Row-level security applies, as to the write.
 */
export function lockRowOf(table: PgTable & KeyedTable, param: string) {
  return async ({ tx, params }: TenantRouteContext): Promise<void> => {
    await tx.db
      .select({ id: table.id })
      .from(table)
      .where(and(eq(table.tenantId, tx.tenantId), eq(table.id, params[param]!)))
      .for('update');
  };
}
