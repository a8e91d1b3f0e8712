import type { RunnerTask, RunnerTestFile } from 'vitest';
import type { Reporter } from 'vitest/reporters';

function countTests(
  tasks: readonly RunnerTask[],
  totals: { passed: number; failed: number; skipped: number },
): void {
  for (const task of tasks) {
    if (task.type === 'suite') {
      countTests(task.tasks, totals);
      continue;
    }
    const state = task.result?.state;
    if (state === 'pass') totals.passed++;
    else if (state === 'fail') totals.failed++;
    else totals.skipped++;
  }
}

// Shared through the process, not a module variable: vitest may load the global set-up and the
// reporter as separate module instances.
const SETUP_FAILURES = Symbol.for('agentflow.tests.setupFailures');

/** Counts failed steps of the harness's global set-up, which vitest does not pass to reporters. */
export function markSetupFailed(count: number): void {
  const shared = globalThis as { [SETUP_FAILURES]?: number };
  shared[SETUP_FAILURES] = (shared[SETUP_FAILURES] ?? 0) + count;
}

/** Ends the run with the plain `N passed, N failed, N skipped` line that CI reads. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const totals = { passed: 0, failed: 0, skipped: 0 };
    countTests(files, totals);
    // An error outside any test (a crashed suite file, a failed global setup) fails the run too.
    totals.failed +=
      errors.length +
      files.filter((file) => file.result?.state === 'fail' && file.tasks.length === 0).length +
      ((globalThis as { [SETUP_FAILURES]?: number })[SETUP_FAILURES] ?? 0);
    process.stdout.write(
      `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
    );
  }
}
