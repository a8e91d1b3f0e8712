import type { TestProject } from 'vitest/node';
import { startTestServer, type TestServer } from './server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    serverAdminUrl: string | null;
    serverSkipReason: string | null;
  }
}

let server: TestServer | undefined;

/** Starts (or finds) one PostgreSQL server for the whole run; each suite creates its own database in it. */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.AGENTFLOW_TEST_ENGINES === 'pglite') {
    project.provide('serverAdminUrl', null);
    project.provide('serverSkipReason', 'AGENTFLOW_TEST_ENGINES=pglite');
    return;
  }
  server = await startTestServer();
  console.log(`[agentflow tests] server engine: ${server.origin}`);
  project.provide('serverAdminUrl', server.adminUrl);
  project.provide('serverSkipReason', null);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
