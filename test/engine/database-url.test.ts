import { resolve } from 'node:path';
import { inspect } from 'node:util';
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

  it('redacts the whole password of a malformed URL, and a password query parameter', () => {
    expect(redactUrl('postgres://u:pa#ss@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u:p@s/s#1@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://h/db?sslmode=require&password=hunter2')).toBe(
      'postgres://h/db?sslmode=require&password=***',
    );
  });

  it('refuses a server URL the driver could not read, without the password or the parser error', () => {
    for (const url of ['postgres://u:pa#ss@h/db', 'postgres://u:p/ss@h/db', 'postgres://u:50%off@h/db']) {
      const error = (() => {
        try {
          parseDatabaseUrl(url);
        } catch (e) {
          return e;
        }
      })();
      expect(error, url).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain('postgres://u:***@h/db is not a valid URL');
      expect((error as Error).message).toContain('percent-encode');
      expect((error as Error).cause).toBeUndefined();
      expect(inspect(error, { showHidden: true, depth: 5 })).not.toMatch(/pa#ss|p\/ss|50%off/);
    }
    // Percent-encoded, the same passwords pass; so do several hosts, as postgres.js reads them.
    expect(parseDatabaseUrl('postgres://u:pa%23ss@h/db')).toEqual({
      kind: 'postgres',
      url: 'postgres://u:pa%23ss@h/db',
    });
    expect(parseDatabaseUrl('postgres://u:p@h1:5432,h2:5433/db').kind).toBe('postgres');
  });
});
