import type { Connection, Database } from '../engine/engine.ts';
import type { Actor } from './actor.ts';
import { type BoundRepository, bindRepository } from './bind-repository.ts';
import { type Registry, registry } from './registry.ts';
import type { Query, ServiceScope, TenantScope } from './scope.ts';

/** What both kinds of unit of work share: the connection's database and raw SQL. */
abstract class UnitOfWork {
  /** Parameterised raw SQL, for what the query builder cannot say. */
  readonly query: Query;
  /** Parameterised raw SQL returning rows as arrays of column values (what compiled statements run). */
  readonly queryArrays: Connection['queryArrays'];

  constructor(private readonly connection: Connection) {
    this.query = (text, params) => connection.query(text, params);
    this.queryArrays = (text, params) => connection.queryArrays(text, params);
  }

  /** The Drizzle query builder, bound to this transaction. */
  get db(): Database {
    return this.connection.db;
  }
}

type Side = 'tenant' | 'service';

/** `tx.<name>` for every registry entry with a repository of that side, bound to the unit of work. */
type Repositories<S extends Side> = {
  readonly [Name in keyof Registry as Registry[Name] extends Record<S, unknown>
    ? Name
    : never]: Registry[Name] extends Record<S, infer R> ? BoundRepository<R> : never;
};

/** Gives the prototype of a unit of work one getter per registry entry of `side`. */
function installRepositories(prototype: object, side: Side): void {
  for (const [name, entry] of Object.entries(registry)) {
    const repository = (entry as Partial<Record<Side, object>>)[side];
    if (!repository) continue;
    Object.defineProperty(prototype, name, {
      get(this: object) {
        // biome-ignore lint/suspicious/noExplicitAny: the registry's own types are checked in Repositories<Side>.
        return bindRepository(repository as any, this);
      },
    });
  }
}

/**
 * A transaction of one tenant, run as agentflow_app: row-level security confines every statement
 * to `tenantId`, whether it comes from a repository, `db` or `query`.
 */
class TenantUnitOfWork extends UnitOfWork implements TenantScope {
  readonly kind = 'tenant';

  constructor(
    connection: Connection,
    readonly tenantId: string,
    readonly actor: Actor,
  ) {
    super(connection);
  }
}

/** A cross-tenant maintenance transaction, run as agentflow_service and audited as `service`. */
class ServiceUnitOfWork extends UnitOfWork implements ServiceScope {
  readonly kind = 'service';

  constructor(
    connection: Connection,
    readonly actorName: string,
  ) {
    super(connection);
  }
}

installRepositories(TenantUnitOfWork.prototype, 'tenant');
installRepositories(ServiceUnitOfWork.prototype, 'service');

/** The `tx` of `withTenant`: a TenantScope plus `tx.<name>` for each tenant repository of the registry. */
export type TenantTx = TenantUnitOfWork & Repositories<'tenant'>;
export const TenantTx = TenantUnitOfWork as new (
  connection: Connection,
  tenantId: string,
  actor: Actor,
) => TenantTx;

/** The `svc` of `asService`: a ServiceScope plus `svc.<name>` for each service repository of the registry. */
export type ServiceTx = ServiceUnitOfWork & Repositories<'service'>;
export const ServiceTx = ServiceUnitOfWork as new (connection: Connection, actorName: string) => ServiceTx;
