import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessSetupError } from './setup-error.ts';

export interface PgliteFolder {
  /** The data folder, opened as pglite://<dir>. */
  readonly dir: string;
  remove(): Promise<void>;
}

async function temporaryFolder(prefix: string): Promise<PgliteFolder> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A PGlite data folder migrated once per run, for every suite to copy. */
export async function createPgliteTemplate(): Promise<PgliteFolder> {
  const folder = await temporaryFolder('agentflow-pglite-template-');
  try {
    // Imported here so that a failure to load the library is reported as this step's.
    const { openStore } = await import('../../src/index.ts');
    const store = await openStore({ url: `pglite://${folder.dir}`, migrate: true });
    await store.close();
    return folder;
  } catch (error) {
    await folder.remove();
    throw new HarnessSetupError({
      what: `migrating the template PGlite database in ${folder.dir}`,
      cause: error,
      todo: 'a migration that fails here fails for every suite: run `npx vitest run test/migrations` for details; check that the temporary folder has room',
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
