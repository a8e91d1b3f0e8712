import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { Connection, EngineKind } from '../../src/engine/engine.ts';
import { openStore, type Store } from '../../src/index.ts';
import { findPgBouncerBinary, type PgBouncer, startPgBouncer } from './pgbouncer.ts';
import { pgliteTemplateDump } from './pglite-template.ts';
import { createServerDatabase } from './server.ts';

export interface EngineHarness {
  readonly kind: EngineKind;
  /** The suite's own migrated database: a copy of the run's template, made once per engine. */
  readonly store: Store;
  /** The URL of that database: postgres://…, or memory:// on PGlite (a copy of the template in memory). */
  readonly url: string;
  /** Opens another store on the same database (server engine; a PGlite folder has one user at a time). */
  openAnother(options?: Parameters<typeof openStore>[0]): Promise<Store>;
  /** Runs raw SQL as agentflow_app with no tenant set, the state a forgotten context leaves behind. */
  asAppWithoutTenant<T>(work: (connection: Connection) => Promise<T>): Promise<T>;
  /** Runs raw SQL as the connecting owner, to prepare what the application roles may not. */
  asOwner<T>(work: (connection: Connection) => Promise<T>): Promise<T>;
}

export type EngineFilter = 'all' | 'server';

export interface EngineMatrixOptions {
  /**
   * Also run the suite on the server through a PgBouncer in transaction mode started for it
   * (skipped with the reason where there is no pgbouncer binary); `poolSize` server connections
   * (default 20; 1 makes every transaction of every client share one server connection).
   */
  pgbouncer?: { poolSize?: number };
}

export { createServerDatabase } from './server.ts';

function harnessFor(
  kind: EngineKind,
  pgbouncer?: { poolSize?: number },
): EngineHarness & { setUp(): Promise<void>; tearDown(): Promise<void> } {
  let store: Store | undefined;
  let url: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  let loadDataDir: Blob | undefined;
  let bouncer: PgBouncer | undefined;
  const others: Store[] = [];
  const required = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the engine harness is used outside its describe block');
    return value;
  };
  return {
    kind,
    get store() {
      return required(store);
    },
    get url() {
      return required(url);
    },
    async setUp() {
      if (kind === 'postgres') {
        const database = await createServerDatabase(required(inject('serverAdminUrl') ?? undefined), {
          template: required(inject('serverTemplateDatabase') ?? undefined),
        });
        url = database.url;
        drop = database.drop;
        if (pgbouncer) {
          const started = await startPgBouncer(required(inject('serverAdminUrl') ?? undefined), pgbouncer);
          if ('skip' in started) throw new Error(`PgBouncer could not start: ${started.skip}`);
          bouncer = started;
          url = bouncer.url(url);
        }
      } else {
        // An in-memory database started from the template's dump: no folder to copy or remove.
        url = 'memory://';
        loadDataDir = await pgliteTemplateDump(inject('pgliteTemplateDump'));
      }
      // Already migrated: this only checks the copy is at the latest version (and would finish it).
      store = await openStore({ url, migrate: true, postgres: { max: 4 }, pglite: { loadDataDir } });
    },
    async tearDown() {
      await Promise.all(others.map((other) => other.close()));
      await store?.close();
      await bouncer?.stop();
      await drop?.();
    },
    async openAnother(options = {}) {
      if (kind !== 'postgres') throw new Error('a PGlite database cannot be opened twice at once');
      const other = await openStore({ url: required(url), ...options });
      others.push(other);
      return other;
    },
    asAppWithoutTenant(work) {
      return required(store).asAppWithoutTenant(work);
    },
    asOwner(work) {
      return required(store).engine.transaction(undefined, work);
    },
  };
}

/**
 * Declares one describe block per engine, PGlite and the PostgreSQL server (or the server only),
 * and a skipped block naming the reason when this run has no server.
 */
export function describePerEngine(title: string, only: EngineFilter, body: (kind: EngineKind) => void): void {
  const kinds: EngineKind[] = only === 'server' ? ['postgres'] : ['pglite', 'postgres'];
  for (const kind of kinds) {
    const skipReason = kind === 'postgres' ? inject('serverSkipReason') : null;
    if (skipReason) {
      describe.skip(`${title} [${kind}] (skipped: ${skipReason})`, () => {});
      continue;
    }
    describe(`${title} [${kind}]`, () => body(kind));
  }
}

/**
 * Declares a suite once and runs it on every engine, each with a migrated database of its own
 * (a copy of the template the global set-up migrated once per engine). Suites that need several connections pass `server` and run on the server engine only.
 */
export function describeEachEngine(
  title: string,
  suite: (harness: EngineHarness) => void,
  only: EngineFilter = 'all',
  options: EngineMatrixOptions = {},
): void {
  const declare = (kind: EngineKind, pgbouncer?: { poolSize?: number }) => {
    const harness = harnessFor(kind, pgbouncer);
    beforeAll(() => harness.setUp());
    afterAll(() => harness.tearDown());
    suite(harness);
  };
  describePerEngine(title, only, (kind) => declare(kind));
  if (!options.pgbouncer) return;
  const skipReason =
    inject('serverSkipReason') ??
    (findPgBouncerBinary()
      ? null
      : 'no pgbouncer binary (PGBOUNCER, PATH or /usr/sbin; Debian package pgbouncer)');
  const pooled = `${title} [postgres through PgBouncer, transaction mode]`;
  if (skipReason) describe.skip(`${pooled} (skipped: ${skipReason})`, () => {});
  else describe(pooled, () => declare('postgres', options.pgbouncer));
}
