import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Connection, Engine } from '../../src/engine/engine.ts';
import { openPostgresEngine } from '../../src/engine/postgres-engine.ts';
import { loadMigrations, type Migration, Migrator, openStore } from '../../src/index.ts';
import { checksumOf } from '../../src/migrations/migration-files.ts';
import { createTenant } from '../harness/fixtures.ts';
import { type CatalogSnapshot, catalogSnapshot } from './catalog.ts';
import { describeEachEmptyEngine, type EmptyDatabase, openEmptyDatabase } from './empty-database.ts';

const ROUNDS = 3;

async function historyRows(connection: Connection) {
  return connection.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
}

/** Advisory locks some session of this database is waiting for. */
async function waitingAdvisoryLocks(connection: Connection): Promise<number> {
  const [row] = await connection.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return row?.n ?? 0;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachEmptyEngine(
  'concurrent migrations of one database',
  () => {
    let migrations: Migration[];
    let expectedHistory: Array<{ version: number; name: string; checksum: string }>;
    let reference: CatalogSnapshot;
    let lockKey: string;
    const cleanups: Array<() => Promise<void>> = [];

    /** An empty server database, and `processes` more engines on it, each with a pool of its own. */
    async function emptyDatabaseFor(
      processes: number,
    ): Promise<{ database: EmptyDatabase; engines: Engine[] }> {
      const database = await openEmptyDatabase('postgres');
      cleanups.push(() => database.close());
      const engines = await Promise.all(
        Array.from({ length: processes }, () => openPostgresEngine({ url: database.url, max: 2 })),
      );
      // Closed before the database is dropped (cleanups run newest first).
      cleanups.push(() => Promise.all(engines.map((engine) => engine.close())).then(() => {}));
      return { database, engines };
    }

    async function expectSinglyMigrated(database: EmptyDatabase): Promise<void> {
      expect(await database.asOwner(historyRows)).toEqual(expectedHistory);
      expect(await database.asOwner(catalogSnapshot)).toEqual(reference);
    }

    function expectOneWinner(results: Migration[][]): void {
      const counts = results.map((applied) => applied.length).sort((x, y) => x - y);
      expect(counts, 'one process applies every migration, the other nothing').toEqual([
        0,
        migrations.length,
      ]);
      const winner = results.find((applied) => applied.length > 0)!;
      expect(winner.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    }

    beforeAll(async () => {
      migrations = await loadMigrations();
      expectedHistory = migrations.map(({ version, name, checksum }) => ({ version, name, checksum }));
      const { database: single } = await emptyDatabaseFor(0);
      await (await Migrator.create(single.engine)).migrate();
      reference = await single.asOwner(catalogSnapshot);
      // Which advisory lock does the migrator hold? A probe migration, run under it, writes it down.
      const probe =
        'CREATE TABLE lock_probe AS SELECT classid, objid, objsubid FROM pg_locks ' +
        `WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()`;
      const withProbe = [
        ...migrations,
        {
          version: migrations.length + 1,
          name: 'lock_probe',
          up: probe,
          down: 'DROP TABLE lock_probe',
          checksum: checksumOf(probe),
        },
      ];
      await (await Migrator.create(single.engine, withProbe)).migrate();
      const held = await single.asOwner((c) =>
        c.query<{ key: string }>(
          'SELECT ((classid::bigint << 32) | objid::bigint)::text AS key FROM lock_probe WHERE objsubid = 1',
        ),
      );
      expect(held, 'the migrator holds one advisory lock (a bigint key) while it migrates').toHaveLength(1);
      lockKey = held[0]!.key;
    });

    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    for (let round = 1; round <= ROUNDS; round++) {
      it(`two processes migrating an empty database at once end in one schema (round ${round})`, async () => {
        const { database, engines } = await emptyDatabaseFor(2);
        const migrators = await Promise.all(engines.map((engine) => Migrator.create(engine)));
        expectOneWinner(await Promise.all(migrators.map((migrator) => migrator.migrate())));
        await expectSinglyMigrated(database);
      });
    }

    it('two processes that both found everything pending: the one that waited for the lock applies nothing', async () => {
      const { database, engines } = await emptyDatabaseFor(2);
      const migrators = await Promise.all(engines.map((engine) => Migrator.create(engine)));
      // A third session holds the migration lock until both migrators are queued behind it.
      const holder = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        await holder.unsafe('SELECT pg_advisory_lock($1)', [lockKey]);
        const both = Promise.all(migrators.map((migrator) => migrator.migrate()));
        both.catch(() => {});
        await until(
          async () => (await database.asOwner(waitingAdvisoryLocks)) === 2,
          'both migrators wait for the migration lock',
        );
        await holder.unsafe('SELECT pg_advisory_unlock($1)', [lockKey]);
        expectOneWinner(await both);
      } finally {
        await holder.end();
      }
      await expectSinglyMigrated(database);
    });

    it('two openStore({ migrate: true }) at once both open the same, fully migrated database', async () => {
      const { database } = await emptyDatabaseFor(0);
      const [one, two] = await Promise.all([
        openStore({ url: database.url, migrate: true, postgres: { max: 2 } }),
        openStore({ url: database.url, migrate: true, postgres: { max: 2 } }),
      ]);
      try {
        await expectSinglyMigrated(database);
        const fixture = await createTenant(one);
        await two.withTenant(fixture.context, async (tx) => {
          expect((await tx.tenants.current()).id).toBe(fixture.tenant.id);
        });
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  },
  'server',
);
