import type { Connection, Database } from '../engine/engine.ts';
import type { Actor } from './actor.ts';

// What a repository may use of a unit of work. Repositories import this file, never the unit of
// work itself, so that the store (which lists every repository) and the repositories import
// nothing of each other: this file imports no repository and no store.

/** Parameterised raw SQL returning rows as objects. */
export type Query = <Row = Record<string, unknown>>(
  text: string,
  params?: readonly unknown[],
) => Promise<Row[]>;

/** What both kinds of unit of work offer: the transaction's Drizzle database and raw SQL. */
export interface Scope {
  /** The Drizzle query builder, bound to this transaction. */
  readonly db: Database;
  /** Parameterised raw SQL, for what the query builder cannot say. */
  readonly query: Query;
  /** Parameterised raw SQL returning rows as arrays of column values (what compiled statements run). */
  readonly queryArrays: Connection['queryArrays'];
}

/** A transaction of one tenant, run as agentflow_app: row-level security confines it to `tenantId`. */
export interface TenantScope extends Scope {
  readonly kind: 'tenant';
  readonly tenantId: string;
  readonly actor: Actor;
}

/** A cross-tenant maintenance transaction, run as agentflow_service and audited as `service`. */
export interface ServiceScope extends Scope {
  readonly kind: 'service';
  readonly actorName: string;
}
