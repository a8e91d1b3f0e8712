import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseDatabaseUrl, redactUrl } from '../../src/index.ts';

describe('DATABASE_URL', () => {
  it('defaults to PGlite in ./.agentflow/', () => {
    expect(parseDatabaseUrl(undefined, '/srv/app')).toEqual({
      kind: 'pglite',
      dataDir: '/srv/app/.agentflow',
    });
    expect(parseDatabaseUrl('  ', '/srv/app')).toEqual({ kind: 'pglite', dataDir: '/srv/app/.agentflow' });
  });

  it('reads pglite://<dir>, memory:// and postgres URLs', () => {
    expect(parseDatabaseUrl('pglite://data/db', '/srv/app')).toEqual({
      kind: 'pglite',
      dataDir: resolve('/srv/app', 'data/db'),
    });
    expect(parseDatabaseUrl('pglite:///var/lib/af')).toEqual({ kind: 'pglite', dataDir: '/var/lib/af' });
    expect(parseDatabaseUrl('memory://')).toEqual({ kind: 'pglite', dataDir: undefined });
    expect(parseDatabaseUrl('postgres://u:p@db:5432/app')).toEqual({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/app',
    });
    expect(parseDatabaseUrl('postgresql://db/app')).toEqual({ kind: 'postgres', url: 'postgresql://db/app' });
  });

  it('refuses anything else without printing the password', () => {
    const error = (() => {
      try {
        parseDatabaseUrl('mysql://root:hunter2@db/app');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain('mysql://root:***@db/app');
    expect((error as Error).message).not.toContain('hunter2');
    expect(() => parseDatabaseUrl('pglite://')).toThrow(ConfigurationError);
  });

  it('redacts passwords only', () => {
    expect(redactUrl('postgres://app:s3cr:et@db/app')).toBe('postgres://app:***@db/app');
    expect(redactUrl('postgres://app@db/app')).toBe('postgres://app@db/app');
  });
});
