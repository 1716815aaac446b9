// Tests that cannot run here are registered as skipped, with the reason, when the file is loaded:
// uvu counts them under "Skipped" (never as passed); the reason is printed where the suite runs and
// again after the summary.
import type { Callback, Test } from 'uvu';

const skipped: string[] = [];

/** `t` itself, or, when `reason` is set, a function that registers the test as skipped instead. */
export function skipIf<T>(t: Test<T>, reason: string | undefined): (name: string, fn: Callback<T>) => void {
  if (!reason) return t;
  return (name) => {
    t.skip(name);
    if (skipped.push(`${name}\n      why: ${reason}`) === 1) {
      process.on('exit', () => process.stdout.write(`  Skipped (${skipped.length}):\n${skipped.map((s) => `    - ${s}\n`).join('')}\n`));
    }
    t.before(() => { console.log(`\n  skipped: ${name}\n    why: ${reason}`); });
  };
}
