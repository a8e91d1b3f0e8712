import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Connection, Engine, EngineKind } from '../../src/engine/engine.ts';
import { openPgliteEngine } from '../../src/engine/pglite-engine.ts';
import { openPostgresEngine } from '../../src/engine/postgres-engine.ts';
import { createServerDatabase, describePerEngine } from '../harness/engines.ts';

/** A database no migration has touched, and an engine on it. */
export interface EmptyDatabase {
  readonly kind: EngineKind;
  readonly engine: Engine;
  /** postgres://… for the server, memory:// or pglite://<dir> for PGlite. */
  readonly url: string;
  /** Raw SQL as the connecting owner. */
  asOwner<T>(work: (connection: Connection) => Promise<T>): Promise<T>;
  /** Closes the engine and drops the database (or its folder). */
  close(): Promise<void>;
}

export function serverAdminUrl(): string {
  const url = inject('serverAdminUrl');
  if (!url) throw new Error('no PostgreSQL server in this run');
  return url;
}

/**
 * Opens an empty database: a fresh database on the test server, or a new PGlite instance, kept in
 * memory unless `folder` asks for a data directory (which can be closed and opened again by URL).
 */
export async function openEmptyDatabase(
  kind: EngineKind,
  options: { folder?: boolean; max?: number } = {},
): Promise<EmptyDatabase> {
  let engine: Engine;
  let url: string;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    const database = await createServerDatabase(serverAdminUrl());
    url = database.url;
    try {
      engine = await openPostgresEngine({ url, max: options.max ?? 2 });
    } catch (error) {
      await database.drop();
      throw error;
    }
    cleanup = database.drop;
  } else if (options.folder) {
    const dir = await mkdtemp(join(tmpdir(), 'agentflow-migrations-'));
    url = `pglite://${dir}`;
    engine = await openPgliteEngine({ dataDir: dir });
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    url = 'memory://';
    engine = await openPgliteEngine({ dataDir: undefined });
    cleanup = async () => {};
  }
  let closed = false;
  return {
    kind,
    engine,
    url,
    asOwner: (work) => engine.transaction(undefined, work),
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
      await cleanup();
    },
  };
}

/** Declares a suite once per engine without a migrated store: it opens what it needs with openEmptyDatabase. */
export function describeEachEmptyEngine(
  title: string,
  suite: (kind: EngineKind) => void,
  only: 'all' | 'server' = 'all',
): void {
  describePerEngine(title, only, suite);
}

/** One empty database for a whole describe block, opened before its tests and closed after them. */
export function useEmptyDatabase(kind: EngineKind, options: { folder?: boolean } = {}): () => EmptyDatabase {
  let database: EmptyDatabase | undefined;
  beforeAll(async () => {
    database = await openEmptyDatabase(kind, options);
  });
  afterAll(async () => {
    await database?.close();
  });
  return () => {
    if (!database) throw new Error('the empty database is used outside its describe block');
    return database;
  };
}
