// kprobe and uprobe perf events, two ways:
// - the dynamic PMUs (4.17+): perf_event_open with the PMU's type from
//   /sys/bus/event_source/devices/{kprobe,uprobe}/type, the function name (kprobe) or binary path
//   (uprobe) in config1 and the offset in config2; the return-probe bit is where format/retprobe says;
// - the legacy tracefs interface: a line in kprobe_events / uprobe_events creates a named trace
//   event, which is then opened like a tracepoint, and removed again when the probe is let go.
// And the perf-event ioctls that put a program on an event where the kernel has no perf-event links.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { BpfError, UsageError } from '../errors.js';
import { PerfIoctl } from '../uapi/attach.js';
import { PerfType } from '../uapi/perf.js';
import { bpfError, Errno, errnoName } from './errno.js';
import type { Fd } from './fd.js';
import { libc } from './libc.js';
import { perfEventOpen, perfPermissionHint } from './perf.js';
import { tracefsPath, tracepointId } from './tracefs.js';

export type ProbeKind = 'kprobe' | 'uprobe';

const PMU_DIR = '/sys/bus/event_source/devices';

/** The dynamic PMU of `kind`, or undefined when the kernel has none (no CONFIG_KPROBE_EVENTS / UPROBE_EVENTS, or older than 4.17). */
export function probePmu(kind: ProbeKind): { type: number; retprobeBit: number; refCtrShift?: number } | undefined {
  const dir = `${PMU_DIR}/${kind}`;
  if (!existsSync(`${dir}/type`)) return undefined;
  const type = Number(readFileSync(`${dir}/type`, 'utf8').trim());
  const bit = (name: string) => {
    try {
      const m = /^config:(\d+)/.exec(readFileSync(`${dir}/format/${name}`, 'utf8').trim());
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  return { type, retprobeBit: bit('retprobe') ?? 0, refCtrShift: bit('ref_ctr_offset') };
}

export interface KprobeSpec { kind: 'kprobe'; symbol: string; offset: number; retprobe: boolean }
export interface UprobeSpec { kind: 'uprobe'; path: string; offset: number; retprobe: boolean; refCtrOffset?: number }
export type ProbeSpec = KprobeSpec | UprobeSpec;

/** "kprobe do_sys_open+0x10", "uretprobe /bin/true:0x1130", for messages. */
export function probeName(spec: ProbeSpec): string {
  const ret = spec.retprobe ? spec.kind.replace('probe', 'retprobe') : spec.kind;
  return spec.kind === 'kprobe'
    ? `${ret} ${spec.symbol}${spec.offset ? `+0x${spec.offset.toString(16)}` : ''}`
    : `${ret} ${spec.path}:0x${spec.offset.toString(16)}`;
}

/** perf_event_open's pid/cpu pair: one process on any CPU, or every process (then CPU 0, as perf requires). */
function target(pid: number | undefined): [number, number] {
  return pid === undefined || pid < 0 ? [-1, 0] : [pid, -1];
}

/** Open `spec` on the dynamic PMU (see probePmu) for `pid` (undefined: every process). */
export function openProbePmu(spec: ProbeSpec, pid: number | undefined): Fd {
  const pmu = probePmu(spec.kind);
  if (!pmu) throw new UsageError('NOT_SUPPORTED', `this kernel has no ${spec.kind} PMU (${PMU_DIR}/${spec.kind})`);
  let config = spec.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (spec.kind === 'uprobe' && spec.refCtrOffset) {
    if (pmu.refCtrShift === undefined) throw new UsageError('NOT_SUPPORTED', `${probeName(spec)}: this kernel's uprobe PMU takes no reference counter (4.20+)`);
    config |= BigInt(spec.refCtrOffset) << BigInt(pmu.refCtrShift);
  }
  const [p, cpu] = target(pid);
  const what = probeName(spec);
  try {
    return perfEventOpen(spec.kind === 'kprobe'
      ? { type: pmu.type, config, kprobe_func: spec.symbol, probe_offset: BigInt(spec.offset), sample_period: 1n, wakeup_events: 1 }
      : { type: pmu.type, config, uprobe_path: spec.path, probe_offset: BigInt(spec.offset), sample_period: 1n, wakeup_events: 1 }, p, cpu, what);
  } catch (e) {
    throw e instanceof BpfError ? explainProbeError(spec, e.errno, e) : e;
  }
}

/**
 * Whether kernel function `symbol` can take a kprobe: asked of the kprobe PMU (an event opened and
 * closed at once, nothing attached), else looked up in /proc/kallsyms.
 */
export function kprobeable(symbol: string): boolean {
  if (probePmu('kprobe')) {
    try {
      openProbePmu({ kind: 'kprobe', symbol, offset: 0, retprobe: false }, undefined).close();
      return true;
    } catch {
      return false;
    }
  }
  try {
    return readFileSync('/proc/kallsyms', 'utf8').includes(` ${symbol}\n`);
  } catch {
    return false;
  }
}

/** Why the kernel refused a probe, with what to check. */
export function explainProbeError(spec: ProbeSpec, errno: number, cause?: unknown): BpfError {
  const what = probeName(spec);
  let hint: string | undefined;
  if (spec.kind === 'kprobe' && (errno === Errno.ENOENT || errno === Errno.EINVAL)) {
    hint = `the kernel has no probe-able function ${spec.symbol}${spec.offset ? ' at that offset' : ''}: check /proc/kallsyms and ${'/sys/kernel/tracing/available_filter_functions'} (static, inlined and notrace functions cannot be probed)`;
  } else if (spec.kind === 'uprobe' && errno === Errno.ENOENT) {
    hint = `${spec.path} does not exist (for a process in another mount namespace, use /proc/PID/root/…)`;
  } else if (spec.kind === 'uprobe' && errno === Errno.EINVAL) {
    hint = `0x${spec.offset.toString(16)} is not an instruction in ${spec.path}: give a symbol, or an offset in the file (not a virtual address)`;
  } else if (errno === Errno.EPERM || errno === Errno.EACCES) {
    hint = perfPermissionHint();
  } else if (errno === Errno.EBUSY) {
    hint = 'another legacy probe with the same name exists (see /sys/kernel/tracing/dynamic_events)';
  }
  return new BpfError('perf_event_open', errno, errnoName(errno), `perf_event_open failed for ${what}: ${errnoName(errno)}`, { hint, cause });
}

/** A probe made through tracefs (kprobe_events / uprobe_events): its event, and how to remove it. */
export interface LegacyProbe {
  /** GROUP/NAME of the trace event. */
  event: string;
  /** The perf event (a tracepoint of the new event). */
  fd: Fd;
  /** Remove the trace event; false when the kernel still uses it (a pinned link holds it). */
  remove(): boolean;
}

const LEGACY_GROUP = 'sockaccel';
let legacyCounter = 0;

/** Create `spec` as a legacy trace event and open it for `pid` (undefined: every process). */
export function openLegacyProbe(spec: ProbeSpec, pid: number | undefined): LegacyProbe {
  const file = spec.kind === 'kprobe' ? 'kprobe_events' : 'uprobe_events';
  const what = probeName(spec);
  let path: string;
  try {
    path = tracefsPath(file, `creating a ${spec.kind} through tracefs`);
  } catch (e) {
    throw new UsageError('NOT_SUPPORTED', `this kernel has no ${spec.kind}s: neither the ${spec.kind} PMU (${PMU_DIR}/${spec.kind}) nor tracefs ${file} exists (${what})`, {
      hint: spec.kind === 'kprobe' ? 'the kernel was built without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS: use a tracepoint, raw_tp or fentry program instead' : 'the kernel was built without CONFIG_UPROBE_EVENTS',
      cause: e,
    });
  }
  const name = `${spec.kind}_${process.pid}_${++legacyCounter}`;
  const event = `${LEGACY_GROUP}/${name}`;
  const kind = spec.retprobe ? 'r' : 'p';
  const location = spec.kind === 'kprobe'
    ? `${spec.symbol}${spec.offset ? `+${spec.offset}` : ''}`
    : `${spec.path}:0x${spec.offset.toString(16)}${spec.refCtrOffset ? `(0x${spec.refCtrOffset.toString(16)})` : ''}`;
  try {
    appendFileSync(path, `${kind}:${event} ${location}\n`);
  } catch (e) {
    const errno = -((e as NodeJS.ErrnoException).errno ?? -22);
    throw explainProbeError(spec, errno, e);
  }
  const remove = () => {
    try {
      appendFileSync(path, `-:${event}\n`);
      return true;
    } catch {
      return false;
    }
  };
  try {
    const [p, cpu] = target(pid);
    const id = tracepointId(LEGACY_GROUP, name);
    const fd = perfEventOpen({ type: PerfType.TRACEPOINT, config: BigInt(id), sample_period: 1n, wakeup_events: 1 }, p, cpu, `${what} (legacy event ${event})`);
    return { event, fd, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

function ioctl(fd: Fd, request: number, arg: number, what: string): void {
  const c = libc();
  if (c.ioctl(fd.value, request, arg) < 0) throw bpfError('ioctl', c.errno(), what);
}

/** PERF_EVENT_IOC_SET_BPF: run `progFd` on the event (the perf event holds the program). */
export function perfSetBpf(event: Fd, progFd: Fd, what: string): void {
  ioctl(event, PerfIoctl.SET_BPF, progFd.value, `${what} (PERF_EVENT_IOC_SET_BPF)`);
}

export function perfEnable(event: Fd, what: string): void {
  ioctl(event, PerfIoctl.ENABLE, 0, `${what} (PERF_EVENT_IOC_ENABLE)`);
}

/** PERF_EVENT_IOC_DISABLE without throwing (cleanup). */
export function perfDisable(event: Fd): void {
  if (!event.closed) libc().ioctl(event.value, PerfIoctl.DISABLE, 0);
}
