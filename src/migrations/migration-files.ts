import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationError } from '../errors/index.ts';

export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
  /** sha256 of the up step: an applied migration whose file changed is refused. */
  checksum: string;
}

/**
 * Checksums of earlier texts of applied migrations, accepted as the same migration: an edit that
 * changes nothing for a database that already applied the old text. Kept by hand; each entry says
 * what changed and why that database needs nothing more. Any other edit is refused.
 */
export const SUPERSEDED_CHECKSUMS: ReadonlyMap<number, { up?: readonly string[]; down?: readonly string[] }> =
  new Map([
    // 1 (and 6 for agentflow_definer): the owner grants itself the roles unless it can switch to
    // them, which from PostgreSQL 16 on means the SET option rather than membership. The objects
    // are the same; only a cluster-wide role grant differs, in the one case (a non-superuser that
    // created the roles, PostgreSQL 16+) where the old text left the next migration failing.
    // Later, the owner that may not grant itself the roles gets a message saying what to do instead
    // of PostgreSQL's bare refusal; a database past migration 1 had them already.
    [
      1,
      {
        up: [
          '951235766c1e53b464c5cdcc716190513c1ab78f4a771a59d95d777d1c08c93f',
          '306aa3bc9db4b33116484595148b961d4d782191139aed5e574cdbaaee5b31e1',
        ],
      },
    ],
    // 2, 3 and 6 (up and down): CREATE on schema agentflow is granted to a function's new owner
    // around each ALTER … OWNER and revoked right after, which a non-superuser owner needs; the
    // schema's privileges end as they were.
    [2, { up: ['9b2ff25c5edc074652a35c157cdd67e89c286af522a1c793581b96c03216367b'] }],
    [3, { up: ['677846a062332d1c9a9cfbdeac790cd8ff561fa4b80c377e2022bcf47762fc98'] }],
    [
      6,
      {
        up: ['cdeb02050d140454147a8ec77cbd7b6612f41655bffc02892fb5d274727ffece'],
        down: ['baaa52db399365c38de5884fc1a107f90544b6381eb8b4f2826057a45e4308e5'],
      },
    ],
  ]);

/** Whether a recorded checksum is that of the migration's file as it reads now, or a superseded one. */
export function matchesChecksum(migration: Migration, direction: 'up' | 'down', recorded: string): boolean {
  const current = direction === 'up' ? migration.checksum : checksumOf(migration.down);
  return (
    recorded === current ||
    (SUPERSEDED_CHECKSUMS.get(migration.version)?.[direction] ?? []).includes(recorded)
  );
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Reads `NNNN_name.up.sql` / `NNNN_name.down.sql` pairs. Versions must run 1, 2, 3… without a
 * gap, and every up step needs its down step.
 */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match)
      throw new MigrationError(`migration file ${file} does not match NNNN_name.up.sql / NNNN_name.down.sql`);
    const [, versionText, name, direction] = match as unknown as [string, string, string, 'up' | 'down'];
    const version = Number(versionText);
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name)
      throw new MigrationError(`migration ${version} has two names: ${entry.name} and ${name}`);
    entry[direction] = await readFile(join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  const migrations: Migration[] = [];
  for (const [version, entry] of [...byVersion.entries()].sort(([a], [b]) => a - b)) {
    if (version !== migrations.length + 1) {
      throw new MigrationError(
        `migration versions must be consecutive from 1: expected ${migrations.length + 1}, found ${version}`,
      );
    }
    if (entry.up === undefined || entry.down === undefined) {
      throw new MigrationError(`migration ${version}_${entry.name} needs both an up and a down file`);
    }
    migrations.push({
      version,
      name: entry.name,
      up: entry.up,
      down: entry.down,
      checksum: checksumOf(entry.up),
    });
  }
  return migrations;
}
