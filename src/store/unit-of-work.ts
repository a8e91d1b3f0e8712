import { auditLogsRepository } from '../audit/audit-logs.repository.ts';
import type { Connection, Database } from '../engine/engine.ts';
import { agentStatesRepository } from '../projects/agent-states.repository.ts';
import { projectFilesRepository } from '../projects/project-files.repository.ts';
import { projectsRepository } from '../projects/projects.repository.ts';
import { membershipAdminRepository, membershipsRepository } from '../tenancy/memberships.repository.ts';
import { tenantAdminRepository, tenantsRepository } from '../tenancy/tenants.repository.ts';
import { userAdminRepository, usersRepository } from '../tenancy/users.repository.ts';
import type { Actor } from './actor.ts';
import { bindRepository } from './bind-repository.ts';

type Query = <Row = Record<string, unknown>>(text: string, params?: readonly unknown[]) => Promise<Row[]>;

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

/**
 * A transaction of one tenant, run as agentflow_app: row-level security confines every statement
 * to `tenantId`, whether it comes from a repository, `db` or `query`.
 */
export class TenantTx extends UnitOfWork {
  readonly kind = 'tenant';

  constructor(
    connection: Connection,
    readonly tenantId: string,
    readonly actor: Actor,
  ) {
    super(connection);
  }

  get tenant() {
    return bindRepository(tenantsRepository, this);
  }
  get users() {
    return bindRepository(usersRepository, this);
  }
  get memberships() {
    return bindRepository(membershipsRepository, this);
  }
  get projects() {
    return bindRepository(projectsRepository, this);
  }
  get projectFiles() {
    return bindRepository(projectFilesRepository, this);
  }
  get agentStates() {
    return bindRepository(agentStatesRepository, this);
  }
  get auditLogs() {
    return bindRepository(auditLogsRepository, this);
  }
}

/** A cross-tenant maintenance transaction, run as agentflow_service and audited as `service`. */
export class ServiceTx extends UnitOfWork {
  readonly kind = 'service';

  constructor(
    connection: Connection,
    readonly actorName: string,
  ) {
    super(connection);
  }

  get tenants() {
    return bindRepository(tenantAdminRepository, this);
  }
  get users() {
    return bindRepository(userAdminRepository, this);
  }
  get memberships() {
    return bindRepository(membershipAdminRepository, this);
  }
}
