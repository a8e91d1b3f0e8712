import { parseDatabaseUrl } from './database-url.ts';
import type { Engine, QueryListener } from './engine.ts';
import { openPgliteEngine, type PgliteEngineOptions } from './pglite-engine.ts';
import { openPostgresEngine, type PostgresEngineOptions } from './postgres-engine.ts';

export interface OpenEngineOptions {
  /** postgres://…, pglite://<dir> or memory://; defaults to DATABASE_URL, then ./.agentflow/. */
  url?: string;
  /** Server engine only: pool and statement settings. */
  postgres?: Omit<PostgresEngineOptions, 'url' | 'onQuery'>;
  /** Embedded engine only: `loadDataDir` starts a memory:// database from a dump of a data folder. */
  pglite?: Pick<PgliteEngineOptions, 'loadDataDir'>;
  /** Called with the text of every statement sent (tests, tracing). */
  onQuery?: QueryListener;
}

/** Opens the engine a database URL names: the one place that choice is made. */
export function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const target = parseDatabaseUrl(options.url ?? process.env.DATABASE_URL);
  return target.kind === 'postgres'
    ? openPostgresEngine({ ...options.postgres, url: target.url, onQuery: options.onQuery })
    : openPgliteEngine({ ...options.pglite, dataDir: target.dataDir, onQuery: options.onQuery });
}
