import { openAsBlob } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessSetupError } from './setup-error.ts';

export interface PgliteFolder {
  /** The data folder, opened as pglite://<dir>. */
  readonly dir: string;
  remove(): Promise<void>;
}

export interface PgliteTemplate extends PgliteFolder {
  /** The same database as one file (PGlite's dumpDataDir, an uncompressed tar), next to the folder. */
  readonly dump: string;
}

async function temporaryFolder(prefix: string): Promise<PgliteFolder> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A PGlite data folder migrated once per run, for suites that need a folder to copy, and a dump of
 * it, from which each suite's in-memory database starts (loadDataDir): cheaper than copying the
 * folder, and a memory database does no file I/O while the suite runs.
 */
export async function createPgliteTemplate(): Promise<PgliteTemplate> {
  const base = await temporaryFolder('agentflow-pglite-template-');
  const dir = join(base.dir, 'data');
  const dump = join(base.dir, 'data.tar');
  try {
    // Imported here so that a failure to load the library is reported as this step's.
    const { openStore } = await import('../../src/index.ts');
    const store = await openStore({ url: `pglite://${dir}`, migrate: true });
    await store.close();
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = new PGlite(dir);
    try {
      await pglite.waitReady;
      await writeFile(dump, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
    } finally {
      await pglite.close();
    }
    return { dir, dump, remove: base.remove };
  } catch (error) {
    await base.remove();
    throw new HarnessSetupError({
      what: `migrating the template PGlite database in ${dir}`,
      cause: error,
      todo: 'a migration that fails here fails for every suite: run `npx vitest run test/migrations` for details; check that the temporary folder has room',
    });
  }
}

/** The template's dump, for openStore({ url: 'memory://', pglite: { loadDataDir } }). */
export async function pgliteTemplateDump(dump: string): Promise<Blob> {
  try {
    return await openAsBlob(dump);
  } catch (error) {
    throw new HarnessSetupError({
      what: `reading the template PGlite dump ${dump} for a suite`,
      cause: error,
      todo: 'the template is made by the global set-up and removed when the run ends: run the suites through vitest',
    });
  }
}

/** A suite's own copy of the template folder: already migrated, removed by its teardown. */
export async function copyPgliteTemplate(templateDir: string): Promise<PgliteFolder> {
  const folder = await temporaryFolder('agentflow-pglite-');
  try {
    await cp(templateDir, folder.dir, { recursive: true });
    return folder;
  } catch (error) {
    await folder.remove();
    throw new HarnessSetupError({
      what: `copying the template PGlite database ${templateDir} for a suite`,
      cause: error,
      todo: 'check that the temporary folder has room; the template is made by the global set-up and removed when the run ends',
    });
  }
}
