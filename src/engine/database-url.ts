import { resolve } from 'node:path';
import { ConfigurationError } from '../errors/index.ts';

export type EngineTarget =
  | { kind: 'pglite'; dataDir: string | undefined }
  | { kind: 'postgres'; url: string };

export const DEFAULT_DATA_DIR = '.agentflow';

/**
 * Reads a DATABASE_URL: `postgres://` or `postgresql://` for a server, `pglite://<dir>` for an
 * embedded database stored in a folder, `memory://` for a throwaway embedded one. No URL means
 * the embedded database in `./.agentflow/`. A server URL the driver could not read is refused
 * here, with its password redacted: the driver's own error would print the whole URL.
 */
export function parseDatabaseUrl(url: string | undefined, cwd: string = process.cwd()): EngineTarget {
  if (url === undefined || url.trim() === '')
    return { kind: 'pglite', dataDir: resolve(cwd, DEFAULT_DATA_DIR) };
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    checkServerUrl(trimmed);
    return { kind: 'postgres', url: trimmed };
  }
  if (/^memory:\/\/\/?$/i.test(trimmed)) return { kind: 'pglite', dataDir: undefined };
  const pglite = /^pglite:\/\/(.+)$/i.exec(trimmed);
  if (pglite?.[1]) return { kind: 'pglite', dataDir: resolve(cwd, pglite[1]) };
  throw new ConfigurationError(
    `unsupported DATABASE_URL ${redactUrl(trimmed)}: expected postgres://, postgresql://, pglite://<dir> or memory://`,
  );
}

/**
 * Reads the URL as postgres.js 3.4 does (its parseUrl: the first of several hosts, then WHATWG URL
 * parsing, then percent-decoding of user and password), so that what passes here opens there.
 * Neither the parser's error (it carries the URL as `input`) nor its message is kept.
 */
function checkServerUrl(url: string): void {
  try {
    const authority = url.slice(url.indexOf('://') + 3).split(/[?/]/)[0] ?? '';
    const hosts = decodeURIComponent(authority.slice(authority.indexOf('@') + 1));
    const parsed = new URL(url.replace(hosts, hosts.split(',')[0] ?? ''));
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    throw new ConfigurationError(
      `DATABASE_URL ${redactUrl(url)} is not a valid URL: percent-encode reserved characters in the user name and password (# as %23, @ as %40, / as %2F, : as %3A, % as %25)`,
    );
  }
}

/**
 * Removes the password from a connection URL so that it can be printed or logged, malformed ones
 * included: the credentials run to the last `@` (a password may hold `@`, `#`, `/` or `:` that
 * should have been percent-encoded), and a `password=` query parameter is redacted too.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):.*@/is, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}
