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

/** Ends the run with the plain `N passed, N failed, N skipped` line that CI reads. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const totals = { passed: 0, failed: 0, skipped: 0 };
    countTests(files, totals);
    // An error outside any test (a crashed suite file, a failed global setup) fails the run too.
    totals.failed +=
      errors.length + files.filter((file) => file.result?.state === 'fail' && file.tasks.length === 0).length;
    process.stdout.write(
      `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
    );
  }
}
