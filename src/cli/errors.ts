// How the CLI reports a failure: one or two lines on stderr, what failed and what to do. Stack traces
// only with --debug.
import { BpfError, ObjectError } from '../errors.js';

export const PRIVILEGE_FIX = 'run as root, or with CAP_BPF and CAP_NET_ADMIN';

/** Exit codes. */
export const Exit = { ok: 0, failure: 1, usage: 2 } as const;

/** EPERM anywhere means missing privileges; so does EACCES, unless the error says more precisely what to do. */
function isPermission(e: unknown): boolean {
  if (e instanceof BpfError) return e.code === 'EPERM' || e.errno === 1 || (!e.hint && (e.code === 'EACCES' || e.errno === 13));
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPERM' || code === 'EACCES';
}

/** The message of a BpfError without its hint and verifier log (we print those separately). */
function bareMessage(e: BpfError): string {
  let m = e.message;
  if (e.log) {
    const at = m.lastIndexOf(`\n${e.log}`);
    if (at >= 0) m = m.slice(0, at);
  }
  if (e.hint && m.endsWith(` — ${e.hint}`)) m = m.slice(0, -(` — ${e.hint}`.length));
  return m;
}

/** The lines to print for an error thrown by a verb. */
export function describeError(e: unknown, debug = false): string[] {
  const lines: string[] = [];
  if (e instanceof BpfError) {
    lines.push(`error: ${bareMessage(e)}`);
    const fix = isPermission(e) ? PRIVILEGE_FIX : e.hint;
    if (fix) lines.push(fix);
    if (debug && e.log) lines.push(e.log);
  } else if (e instanceof ObjectError) {
    lines.push(`error: ${e.message}`);
    lines.push('the BPF object is damaged or not the sockaccel object: reinstall the package (or rebuild with npm run build:bpf)');
  } else if (e instanceof Error) {
    // Errors of ours (CgroupError...) carry what to do in their message; Node's (fs, net) carry a code.
    const [first, ...rest] = e.message.split('\n');
    lines.push(`error: ${first}`);
    if (isPermission(e)) lines.push(PRIVILEGE_FIX);
    else if (rest.length && debug) lines.push(...rest);
  } else {
    lines.push(`error: ${String(e)}`);
  }
  if (debug && e instanceof Error && e.stack) lines.push(e.stack);
  return lines;
}
