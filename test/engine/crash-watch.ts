import { afterAll, beforeAll } from 'vitest';

/**
 * Records every uncaught exception and unhandled rejection in this test file's process while its
 * suites run: a dropped connection must surface as a rejected unit, never as one of these.
 */
export function watchForCrashes(): { readonly crashes: unknown[] } {
  const crashes: unknown[] = [];
  const record = (error: unknown) => {
    crashes.push(error);
  };
  beforeAll(() => {
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
  });
  afterAll(() => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  });
  return { crashes };
}
