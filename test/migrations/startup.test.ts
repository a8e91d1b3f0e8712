import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadMigrations, openStore, SchemaVersionError, type Store } from '../../src/index.ts';
import { describeEachEmptyEngine, type EmptyDatabase, openEmptyDatabase } from './empty-database.ts';

const DDL = /\b(CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT)\b/i;

/**
 * What is wrong with the statements a startup sent, if it is to only read the migration history:
 * any DDL, and anything that is not a plain read naming schema_migrations.
 */
function startupViolations(statements: readonly string[]): string[] {
  const violations: string[] = [];
  for (const statement of statements) {
    const text = statement.replace(/\s+/g, ' ').trim();
    if (DDL.test(text)) violations.push(`DDL: ${text}`);
    else if (
      !/^SELECT\b/i.test(text) ||
      !/\bschema_migrations\b/.test(text) ||
      /\bFOR (UPDATE|SHARE)\b/i.test(text)
    )
      violations.push(`not a read of schema_migrations: ${text}`);
  }
  return violations;
}

/** Opens a store the way an application starts, with migrate: true, recording every statement sent. */
async function startUp(url: string): Promise<{ store: Store; statements: string[] }> {
  const statements: string[] = [];
  const store = await openStore({
    url,
    migrate: true,
    onQuery: (text) => statements.push(text),
    postgres: { max: 2 },
  });
  return { store, statements };
}

describeEachEmptyEngine('startup', (kind) => {
  // PGlite: a folder database, which a first startup migrates and a later one opens again.
  let database: EmptyDatabase;
  let firstStartup: string[];
  let latest: number;

  beforeAll(async () => {
    latest = (await loadMigrations()).length;
    database = await openEmptyDatabase(kind, { folder: true });
    // A PGlite folder is opened by one process at a time: the stores below get it.
    if (kind === 'pglite') await database.engine.close();
    const first = await startUp(database.url);
    firstStartup = first.statements;
    await first.store.close();
  });

  afterAll(async () => {
    await database?.close();
  });

  it('on an up-to-date database issues no DDL and only reads schema_migrations, even with migrate: true', async () => {
    const { store, statements } = await startUp(database.url);
    try {
      // The listener saw the startup's reads, or this test would prove nothing.
      expect(statements.length).toBeGreaterThan(0);
      expect(startupViolations(statements), statements.join('\n---\n')).toEqual([]);
      await expect(store.migrator.assertUpToDate()).resolves.toMatchObject({ current: latest, pending: [] });
    } finally {
      await store.close();
    }
  });

  it('would notice DDL: the first startup, which migrated, is reported, CREATE TABLE IF NOT EXISTS included', () => {
    const violations = startupViolations(firstStartup);
    expect(violations.some((v) => /^DDL: CREATE TABLE IF NOT EXISTS schema_migrations\b/i.test(v))).toBe(
      true,
    );
    expect(violations.some((v) => /^DDL: .*\bCREATE TABLE projects\b/i.test(v))).toBe(true);
    expect(startupViolations(['SELECT pg_advisory_xact_lock($1)'])).toHaveLength(1);
    expect(startupViolations(['SELECT version FROM schema_migrations FOR UPDATE'])).toHaveLength(1);
    expect(startupViolations(['create index if not exists x on schema_migrations (name)'])).toHaveLength(1);
  });

  it('on a database newer than the code refuses to open, with or without migrate', async () => {
    const { store } = await startUp(database.url);
    await store.engine.transaction(undefined, (c) =>
      c.query(
        `INSERT INTO schema_migrations (version, name, checksum, down_checksum) VALUES ($1, 'from_the_future', 'x', 'x')`,
        [latest + 1],
      ),
    );
    await store.close();
    for (const migrate of [false, true]) {
      const error = await openStore({ url: database.url, migrate }).catch((e: unknown) => e);
      expect(error, `openStore({ migrate: ${migrate} })`).toBeInstanceOf(SchemaVersionError);
      expect((error as Error).message).toContain(
        `version ${latest + 1}, newer than this code knows (${latest})`,
      );
    }
  });
});
