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
