import { resolve } from 'node:path';
import { ConfigurationError } from '../errors/index.ts';

export type EngineTarget =
  | { kind: 'pglite'; dataDir: string | undefined }
  | { kind: 'postgres'; url: string };

export const DEFAULT_DATA_DIR = '.agentflow';

/**
 * Reads a DATABASE_URL: `postgres://` or `postgresql://` for a server, `pglite://<dir>` for an
 * embedded database stored in a folder, `memory://` for a throwaway embedded one. No URL means
 * the embedded database in `./.agentflow/`.
 */
export function parseDatabaseUrl(url: string | undefined, cwd: string = process.cwd()): EngineTarget {
  if (url === undefined || url.trim() === '')
    return { kind: 'pglite', dataDir: resolve(cwd, DEFAULT_DATA_DIR) };
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { kind: 'postgres', url: trimmed };
  if (/^memory:\/\/\/?$/i.test(trimmed)) return { kind: 'pglite', dataDir: undefined };
  const pglite = /^pglite:\/\/(.+)$/i.exec(trimmed);
  if (pglite?.[1]) return { kind: 'pglite', dataDir: resolve(cwd, pglite[1]) };
  throw new ConfigurationError(
    `unsupported DATABASE_URL ${redactUrl(trimmed)}: expected postgres://, postgresql://, pglite://<dir> or memory://`,
  );
}

/** Removes the password from a connection URL so that it can be printed or logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
