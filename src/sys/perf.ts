// perf_event_open(2): the perf events BPF programs attach to (tracepoints here; kprobes and uprobes
// take the same struct). The attr is encoded from its layout (uapi/perf.ts) like a bpf_attr.
import { readFileSync } from 'node:fs';
import { PERF_ATTR_FLAGS_OFFSET, PERF_EVENT_ATTR, PerfType } from '../uapi/perf.js';
import type { Values } from '../uapi/layout.js';
import { Attr } from './attr.js';
import { bpfError, Errno } from './errno.js';
import { Fd } from './fd.js';
import { libc } from './libc.js';
import { tracepointId } from './tracefs.js';

const PERF_FLAG_FD_CLOEXEC = 8;

/**
 * perf_event_open(attr, pid, cpu, -1, FD_CLOEXEC); `what` names the event in errors. `flagBits` are
 * OR'ed into the attr's flags word (PerfAttrFlag: bits the layout has no field for).
 */
export function perfEventOpen(values: Values<typeof PERF_EVENT_ATTR>, pid: number, cpu: number, what: string, flagBits = 0): Fd {
  const attr = new Attr(PERF_EVENT_ATTR, { size: PERF_EVENT_ATTR.size, ...values });
  if (flagBits) attr.buf.writeUInt32LE((attr.buf.readUInt32LE(PERF_ATTR_FLAGS_OFFSET) | flagBits) >>> 0, PERF_ATTR_FLAGS_OFFSET);
  const c = libc();
  const fd = c.perfEventOpen(c.address(attr.buf), pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    const errno = c.errno();
    throw bpfError('perf_event_open', errno, what, errno === Errno.ENOENT ? { hint: 'no such event on this kernel' } : errno === Errno.EACCES || errno === Errno.EPERM ? { hint: perfPermissionHint() } : {});
  }
  return new Fd(fd);
}

/** A perf event for tracepoint category:name on all CPUs and tasks, for a BPF program to attach to. */
export function openTracepoint(category: string, name: string): Fd {
  const id = tracepointId(category, name);
  return perfEventOpen({ type: PerfType.TRACEPOINT, config: BigInt(id), sample_period: 1n, wakeup_events: 1 }, -1, 0, `tracepoint ${category}:${name}`);
}

/**
 * What to do about EACCES/EPERM from perf_event_open. Debian's and Ubuntu's kernels carry a patch:
 * with kernel.perf_event_paranoid above 2 (their default is 3) only CAP_SYS_ADMIN may open any
 * perf event, so CAP_PERFMON alone is refused there (measured on Debian's 6.1).
 */
export function perfPermissionHint(paranoid = perfEventParanoid()): string {
  if (paranoid !== undefined && paranoid > 2) {
    return `kernel.perf_event_paranoid is ${paranoid}: this kernel then allows perf_event_open only with CAP_SYS_ADMIN, not CAP_PERFMON (Debian's and Ubuntu's patch): set it to 2 (sysctl -w kernel.perf_event_paranoid=2, or a file in /etc/sysctl.d), or run as root`;
  }
  return 'needs root, or CAP_PERFMON (and kernel.perf_event_paranoid allowing it)';
}

/** kernel.perf_event_paranoid, read when an error needs it (undefined when it cannot be read). */
export function perfEventParanoid(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
  } catch {
    return undefined;
  }
}
