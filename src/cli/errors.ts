// How the CLI reports a failure: one or two lines on stderr, what failed and what to do. Stack traces
// only with --debug. Exit codes: 0 success, 1 failure, 2 bad usage (including a bad argument value).
import { BpfError, messageWithoutHint, ObjectError, UsageError } from '../errors.js';
import { ACCEL_PRIVILEGE_HINT } from '../accel/privilege-hint.js';

export const PRIVILEGE_FIX = ACCEL_PRIVILEGE_HINT;

/** Exit codes. */
export const Exit = { ok: 0, failure: 1, usage: 2 } as const;

/** A value the user gave that cannot be used (a path, a number) is bad usage; anything else is a failure. */
export function exitCodeFor(e: unknown): number {
  return e instanceof UsageError && (e.code === 'BAD_ARGUMENT' || e.code === 'BAD_PATH') ? Exit.usage : Exit.failure;
}

/** EPERM from the kernel, or a privileges UsageError, means missing privileges (unless the hint says more). */
function isPermission(e: unknown): boolean {
  if (e instanceof UsageError) return e.code === 'NEEDS_PRIVILEGES';
  // EPERM, EACCES (cli.js stays free of the loader modules that name them: test/unit/layers.test.ts).
  if (e instanceof BpfError) return !e.hint && (e.errno === 1 || e.errno === 13);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPERM' || code === 'EACCES';
}

/** The lines to print for an error thrown by a verb. */
export function describeError(e: unknown, debug = false): string[] {
  const lines: string[] = [];
  if (e instanceof BpfError || e instanceof UsageError) {
    lines.push(`error: ${messageWithoutHint(e)}`);
    const fix = isPermission(e) ? PRIVILEGE_FIX : e.hint;
    if (fix) lines.push(fix);
    if (debug && e instanceof BpfError && e.log) lines.push(e.log);
  } else if (e instanceof ObjectError) {
    lines.push(`error: ${e.message}`);
    lines.push('the BPF object is damaged or not the one expected: reinstall the package (or rebuild it with npm run build:bpf)');
  } else if (e instanceof Error) {
    // Node's own errors (fs, net) carry a code; ours carry what to do in their message.
    const [first, ...rest] = e.message.split('\n');
    lines.push(`error: ${first}`);
    if (isPermission(e)) lines.push(PRIVILEGE_FIX);
    else if (rest.length && debug) lines.push(...rest);
  } else {
    lines.push(`error: ${String(e)}`);
  }
  if (debug && e instanceof Error) {
    if (e.stack) lines.push(e.stack);
    for (let c = e.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) lines.push(`caused by: ${c.stack ?? c.message}`);
  }
  return lines;
}
