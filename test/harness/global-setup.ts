import type { TestProject } from 'vitest/node';
import { createPgliteTemplate } from './pglite-template.ts';
import { createTemplateDatabase, startTestServer } from './server.ts';
import { describeCause } from './setup-error.ts';
import { markSetupFailed } from './summary-reporter.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    serverAdminUrl: string | null;
    serverSkipReason: string | null;
    /** A migrated database on the server that each suite copies (CREATE DATABASE … TEMPLATE). */
    serverTemplateDatabase: string | null;
    /** A migrated PGlite data folder, for suites that need a folder of their own (a copy of it). */
    pgliteTemplateDir: string;
    /** The same database dumped to a file, from which each suite's in-memory PGlite database starts. */
    pgliteTemplateDump: string;
  }
}

// Undone in reverse order by teardown.
const cleanups: (() => Promise<void>)[] = [];

/**
 * A run started by a test of the harness itself (test/harness/set-up.test.ts) is given the outer
 * run's PGlite template in this variable, as `<folder>\n<dump>`, instead of migrating one of its own.
 */
export const PGLITE_TEMPLATE_ENV = 'AGENTFLOW_TEST_PGLITE_TEMPLATE';

async function preparePglite(project: TestProject): Promise<void> {
  const given = process.env[PGLITE_TEMPLATE_ENV]?.split('\n');
  if (given?.length === 2 && given[0] && given[1]) {
    project.provide('pgliteTemplateDir', given[0]);
    project.provide('pgliteTemplateDump', given[1]);
    return;
  }
  const template = await createPgliteTemplate();
  cleanups.push(template.remove);
  project.provide('pgliteTemplateDir', template.dir);
  project.provide('pgliteTemplateDump', template.dump);
}

async function prepareServer(project: TestProject): Promise<void> {
  if (process.env.AGENTFLOW_TEST_ENGINES === 'pglite') {
    project.provide('serverAdminUrl', null);
    project.provide('serverSkipReason', 'AGENTFLOW_TEST_ENGINES=pglite');
    project.provide('serverTemplateDatabase', null);
    return;
  }
  const server = await startTestServer();
  cleanups.push(server.stop);
  console.log(`[agentflow tests] server engine: ${server.origin}`);
  const template = await createTemplateDatabase(server.adminUrl, async (url) => {
    // Imported here so that a failure to load the library is reported as this step's.
    const { openStore } = await import('../../src/index.ts');
    const store = await openStore({ url, migrate: true, postgres: { max: 1 } });
    await store.close();
  });
  cleanups.push(template.drop);
  project.provide('serverAdminUrl', server.adminUrl);
  project.provide('serverSkipReason', null);
  project.provide('serverTemplateDatabase', template.name);
}

/**
 * Migrates once per engine for the whole run: a template database on the PostgreSQL server and a
 * template PGlite folder, which each suite copies instead of migrating a database of its own.
 */
export async function setup(project: TestProject): Promise<void> {
  const results = await Promise.allSettled([preparePglite(project), prepareServer(project)]);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length === 0) return;
  await teardown();
  markSetupFailed(failures.length);
  const report = failures.map(describeCause).join('\n\n');
  // Printed here as well as thrown: vitest reports a global set-up error after its own banner only.
  console.error(`\n${report}\n`);
  const error = new Error(report);
  // The stack of the harness's own code would only hide the message.
  error.stack = `Error: ${report}`;
  throw error;
}

export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) =>
      console.error(`[agentflow tests] clean-up failed: ${describeCause(error)}`),
    );
  }
}
