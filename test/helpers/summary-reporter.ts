import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line of counts ("tests: N passed, N failed,
 * N skipped"), after vitest's own coloured summary, for tools that read it.
 */
export default class SummaryReporter implements Reporter {
  private counts = { passed: 0, failed: 0, skipped: 0 };

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = this.counts;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      // A file that failed to load has no tests to count but must not pass unnoticed.
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++;
    }
  }

  /** Runs after the default reporter printed its summary. */
  onFinished(): void {
    const { passed, failed, skipped } = this.counts;
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
