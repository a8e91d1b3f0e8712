import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AgentIdentity,
  type AuthenticateOptions,
  authenticateAgentKey,
} from '../agents/agent-credentials.authenticate.ts';
import type { Connection, Engine, SqlStatement, TransactionOptions } from '../engine/engine.ts';
import { type OpenEngineOptions, openEngine } from '../engine/open-engine.ts';
import {
  ConfigurationError,
  TenantContextError,
  translateError,
  UsageError,
  ValidationError,
} from '../errors/index.ts';
import { Migrator } from '../migrations/migrator.ts';
import { parseInput } from '../shared/validation.ts';
import { type VerifyReport, verifyDatabase } from '../verify/verify-database.ts';
import {
  type ServiceContext,
  serviceContextSchema,
  type TenantContext,
  tenantContextSchema,
} from './actor.ts';
import { runRepositoriesOn } from './bind-repository.ts';
import { APP_ROLE, SERVICE_ROLE } from './roles.ts';
import { ServiceTx, TenantTx } from './unit-of-work.ts';

export interface OpenStoreOptions extends OpenEngineOptions {
  /**
   * true applies pending migrations (under the migration lock); false (the default) only checks
   * that the schema is the one this code knows and throws SchemaVersionError otherwise.
   */
  migrate?: boolean;
  /**
   * Milliseconds a tenant found usable (pending or active) is trusted before its status is read
   * again in a unit's set-up (default 1000; 0 reads it in every unit). The check costs the server a
   * function call per unit; a suspension made through this store applies at once, one made by
   * another process within this time.
   */
  tenantStatusCacheMs?: number;
}

const DEFAULT_TENANT_STATUS_CACHE_MS = 1000;
// Bounds the cache of a process serving very many tenants: past this it starts afresh.
const TENANT_STATUS_CACHE_LIMIT = 10_000;

/**
 * Role, tenant, actor and request context in one statement, all transaction-local (is_local = true),
 * so they vanish at COMMIT/ROLLBACK and cannot leak through a pooled connection. The search path is
 * pinned too, pg_temp last: library SQL names tables without a schema, and a temporary table found
 * on the connection (another PgBouncer client's) must not stand in for one of them.
 */
export const SET_CONTEXT = `SELECT set_config('role', $1, true), set_config('agentflow.tenant_id', $2, true),
  set_config('agentflow.actor_type', $3, true), set_config('agentflow.actor_id', $4, true),
  set_config('agentflow.request_context', $5, true), set_config('search_path', 'pg_catalog, public, pg_temp', true)`;

/** SET_CONTEXT for tenant work, which also refuses a tenant that is missing, suspended or deleted. */
export const SET_TENANT_CONTEXT = `${SET_CONTEXT}, agentflow.require_usable_tenant($2::uuid)`;

/**
 * What the set-up of a unit acting as an agent adds: the agent must exist in the tenant and be
 * neither terminated nor deleted. Not cached: it is one primary-key lookup in the statement that runs
 * anyway, and a termination or deletion must stop the agent's very next unit.
 */
const REQUIRE_USABLE_ACTOR = ', agentflow.require_usable_actor($2::uuid, $3, $4::uuid)';
/** SET_CONTEXT / SET_TENANT_CONTEXT for a unit whose actor is an agent. */
export const SET_AGENT_CONTEXT = `${SET_CONTEXT}${REQUIRE_USABLE_ACTOR}`;
export const SET_TENANT_AGENT_CONTEXT = `${SET_TENANT_CONTEXT}${REQUIRE_USABLE_ACTOR}`;

/**
 * SET_CONTEXT for a key verification, which commits without waiting for its WAL flush: its only
 * writes are the usage row and last_used_at, and no verification depends on them being durable.
 * A server crash may lose those of the last moments (up to 3 × wal_writer_delay, 600 ms by
 * default); waiting for the flush would cost every verification a disk sync.
 */
const AUTHENTICATE_CONTEXT = `${SET_CONTEXT}, set_config('synchronous_commit', 'off', true)`;

export class Store {
  // Marks the async context of a running unit of work, to refuse opening another inside it.
  private readonly insideUnitOfWork = new AsyncLocalStorage<true>();

  // When each tenant was last found usable by a unit's set-up (performance.now()).
  private readonly usableTenants = new Map<string, number>();

  private constructor(
    readonly engine: Engine,
    readonly migrator: Migrator,
    private readonly tenantStatusCacheMs: number,
  ) {}

  static async open(options: OpenStoreOptions = {}): Promise<Store> {
    const cacheMs = options.tenantStatusCacheMs ?? DEFAULT_TENANT_STATUS_CACHE_MS;
    if (!Number.isFinite(cacheMs) || cacheMs < 0)
      throw new ConfigurationError(
        `tenantStatusCacheMs must be a number of milliseconds >= 0, not ${cacheMs}`,
      );
    const engine = await openEngine(options);
    try {
      const migrator = await Migrator.create(engine);
      if (options.migrate) await migrator.migrate();
      else await migrator.assertUpToDate();
      return new Store(engine, migrator, cacheMs);
    } catch (error) {
      await engine.close();
      throw error;
    }
  }

  /**
   * Runs `work` in one transaction as agentflow_app, with the tenant and actor set for this
   * transaction only. Commits when `work` resolves, rolls back when it throws. With
   * `{ readOnly: true }` the database refuses writes (ForbiddenError) and the result is returned
   * without waiting for the COMMIT round trip. With `{ singleStatement: true }` the work runs one
   * statement with COMMIT sent right behind it (one round trip in all); a second statement is refused
   * with UsageError, and the statement stands even if the work throws after it succeeded.
   */
  async withTenant<T>(
    context: TenantContext,
    work: (tx: TenantTx) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    let parsed: TenantContext;
    try {
      parsed = parseInput(tenantContextSchema, context, 'tenant context');
    } catch (error) {
      const issues = error instanceof ValidationError ? error.issues : [];
      throw new TenantContextError(
        `withTenant needs a tenant id and an actor ({ type: 'user' | 'agent', id }): ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { cause: error },
      );
    }
    const checkedAt = this.usableTenants.get(parsed.tenantId);
    const statusKnown = checkedAt !== undefined && performance.now() - checkedAt < this.tenantStatusCacheMs;
    const agent = parsed.actor.type === 'agent';
    const setup = {
      text: statusKnown
        ? agent
          ? SET_AGENT_CONTEXT
          : SET_CONTEXT
        : agent
          ? SET_TENANT_AGENT_CONTEXT
          : SET_TENANT_CONTEXT,
      params: [
        APP_ROLE,
        parsed.tenantId,
        parsed.actor.type,
        parsed.actor.id,
        parsed.request ? JSON.stringify(parsed.request) : '',
      ],
    };
    try {
      const result = await this.transaction(
        setup,
        (connection) => {
          const tx = new TenantTx(callerConnection(connection), parsed.tenantId, parsed.actor);
          runRepositoriesOn(tx, new TenantTx(connection, parsed.tenantId, parsed.actor));
          return work(tx);
        },
        options,
      );
      if (!statusKnown && this.tenantStatusCacheMs > 0) this.rememberUsable(parsed.tenantId);
      return result;
    } catch (error) {
      throw translateError(error);
    }
  }

  private rememberUsable(tenantId: string): void {
    if (this.usableTenants.size >= TENANT_STATUS_CACHE_LIMIT) this.usableTenants.clear();
    this.usableTenants.set(tenantId, performance.now());
  }

  /** Runs `work` in one transaction as agentflow_service, across tenants; audited as `service`. */
  async asService<T>(context: ServiceContext, work: (tx: ServiceTx) => Promise<T>): Promise<T> {
    const parsed = parseInput(serviceContextSchema, context, 'service context');
    const setup = {
      text: SET_CONTEXT,
      params: [
        SERVICE_ROLE,
        '',
        'service',
        parsed.actor,
        parsed.request ? JSON.stringify(parsed.request) : '',
      ],
    };
    try {
      return await this.transaction(setup, (connection) => {
        const tx = new ServiceTx(callerConnection(connection), parsed.actor);
        runRepositoriesOn(tx, new ServiceTx(connection, parsed.actor));
        return work(tx);
      });
    } catch (error) {
      throw translateError(error);
    } finally {
      // Service work may have suspended or deleted a tenant: the next unit of each reads its status.
      this.usableTenants.clear();
    }
  }

  /**
   * Verifies an agent's API key and tells whose it is; a refusal is an AuthenticationError. Runs
   * before any tenant is known: one single-statement unit as agentflow_app with no tenant, which
   * sees no credential; only agentflow.authenticate_agent_key (migration 8) finds the key.
   */
  authenticate(key: string, options: AuthenticateOptions = {}): Promise<AgentIdentity> {
    return authenticateAgentKey(key, options, async (work, requestJson) => {
      const setup = { text: AUTHENTICATE_CONTEXT, params: [APP_ROLE, '', '', '', requestJson] };
      try {
        return await this.transaction(setup, work, { singleStatement: true });
      } catch (error) {
        throw translateError(error);
      }
    });
  }

  /**
   * Runs raw SQL as agentflow_app with no tenant set: what a forgotten context would see (nothing).
   * For isolation probes and tests; tenant work belongs in withTenant.
   */
  async asAppWithoutTenant<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
    return this.transaction(
      { text: `SELECT set_config('role', $1, true)`, params: [APP_ROLE] },
      (connection) => work(callerConnection(connection)),
    );
  }

  /** Checks the live catalog against the isolation invariants (what `agentflow db verify` prints). */
  async verify(): Promise<VerifyReport> {
    const status = await this.migrator.status();
    return this.transaction(undefined, (connection) => verifyDatabase(connection, status));
  }

  /**
   * Every unit of work goes through here. One inside another is refused on every engine: on PGlite's
   * single connection it would wait forever, and on a pool it would commit apart from its caller.
   */
  private transaction<T>(
    setup: SqlStatement | undefined,
    work: (connection: Connection) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> {
    if (this.insideUnitOfWork.getStore()) {
      return Promise.reject(
        new UsageError('a unit of work was opened inside another: use the outer transaction (tx) instead'),
      );
    }
    return this.insideUnitOfWork.run(true, () => this.engine.transaction(setup, work, options));
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

/**
 * The connection as the caller's code reaches it (tx.query, tx.queryArrays, tx.db): any use marks
 * the unit as running SQL the library did not write, which the engine then clears from the
 * connection before the unit ends. Repositories run on the unmarked connection (runRepositoriesOn):
 * their SQL is the library's, so a unit of repository calls only pays no reset.
 */
function callerConnection(connection: Connection): Connection {
  return {
    get db() {
      connection.markCallerSql();
      return connection.db;
    },
    query: (text, params) => {
      connection.markCallerSql();
      return connection.query(text, params);
    },
    queryArrays: (text, params) => {
      connection.markCallerSql();
      return connection.queryArrays(text, params);
    },
    exec: (script) => {
      connection.markCallerSql();
      return connection.exec(script);
    },
    markCallerSql: () => connection.markCallerSql(),
  };
}

/** Opens the store named by `options.url`, DATABASE_URL, or the embedded default. */
export function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  return Store.open(options);
}
