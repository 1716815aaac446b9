// Attaching by section, as libbpf's auto-attach does: the section names the kind and, for the
// tracing kinds, the target (kprobe/FUNCTION, uprobe/BINARY:FUNCTION, tracepoint/CATEGORY/NAME,
// iter/TARGET…); the kinds that attach to something of the caller's choosing (an interface, a
// cgroup, a socket, a namespace, a map) take it from `target`, and say which one they need.
import { arch } from 'node:process';
import { UsageError } from '../errors.js';
import { kprobeable } from '../sys/perf-probe.js';
import type { NetnsRef } from '../sys/netns.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { attachCgroup, attachRawTracepoint, attachToMap, attachTracepoint, attachTracing, type Attachment } from './attach.js';
import { attachIter, type IterOptions } from './iter.js';
import { attachKprobe, attachKprobeMulti } from './kprobe.js';
import { attachNetns } from './netns.js';
import { attachSocketFilter } from './socket-filter.js';
import type { SocketRef } from './socket-fd.js';
import { attachTc, type TcDirection } from './tc.js';
import type { AttachableMap, AttachableProgram } from './types.js';
import { attachUprobe, attachUprobeMulti, parseUprobeTarget } from './uprobe.js';
import { attachXdp, type XdpMode } from './xdp.js';

/** What attach() needs beyond the section, for the kinds whose target is the caller's choice. */
export interface AttachTarget {
  /** xdp, tc: the network interface (name or ifindex). */
  interface?: string | number;
  /** xdp, tc: the interface's namespace; sk_lookup, flow_dissector: the namespace (default: ours). */
  netns?: NetnsRef;
  /** xdp: generic, driver or offload. */
  mode?: XdpMode;
  /** tc: the hook, when the section does not say (SEC("tc")). */
  direction?: TcDirection;
  /** cgroup programs: the cgroup v2 directory. */
  cgroup?: string;
  /** cgroup programs with no attach type in their section (SEC("cgroup/skb")): the attach type. */
  attachType?: number;
  /** socket filters: the socket. */
  socket?: SocketRef;
  /** sk_msg, sk_skb: the SOCKMAP/SOCKHASH; iterators over a map's elements: the map. */
  map?: AttachableMap;
  /** uprobes: only this process. */
  pid?: number;
  /** perf-event kinds (tracepoint, kprobe, uprobe): bpf_get_attach_cookie() value. */
  cookie?: bigint;
  /** iterators over a cgroup tree or one task. */
  iter?: Omit<IterOptions, 'map'>;
}

/** A loaded program with its section (LoadedProgram). */
export interface SectionProgram extends AttachableProgram {
  readonly section: string;
  /** What follows the section's type prefix ("syscalls/sys_enter_openat", "tcp_sendmsg"). */
  readonly attachTo: string;
}

const CGROUP_TYPES: ReadonlySet<number> = new Set([
  ProgType.CGROUP_SKB, ProgType.CGROUP_SOCK, ProgType.CGROUP_SOCK_ADDR, ProgType.SOCK_OPS, ProgType.CGROUP_DEVICE, ProgType.CGROUP_SYSCTL, ProgType.CGROUP_SOCKOPT,
]);

const SYSCALL_PREFIX: Record<string, string> = { x64: '__x64_sys_', arm64: '__arm64_sys_', s390x: '__s390x_sys_', riscv64: '__riscv_sys_' };

const wrappers = new Map<string, boolean>();

/**
 * The kernel function of syscall `name`: its arch wrapper (__x64_sys_NAME) where the kernel has
 * syscall wrappers (4.17+ on x86-64; asked of the kprobe PMU, as libbpf does), else sys_NAME.
 */
export function syscallFunction(name: string): string {
  const wrapper = SYSCALL_PREFIX[arch] ? `${SYSCALL_PREFIX[arch]}${name}` : undefined;
  if (!wrapper) return `sys_${name}`;
  let has = wrappers.get(wrapper);
  if (has === undefined) wrappers.set(wrapper, (has = kprobeable(wrapper)));
  return has ? wrapper : `sys_${name}`;
}

function need<T>(value: T | undefined, prog: SectionProgram, what: string, example: string): T {
  if (value === undefined) throw new UsageError('BAD_ARGUMENT', `${prog.what} (section "${prog.section}") attaches to ${what}: say which`, { hint: `attach(${example})` });
  return value;
}

function needTarget(prog: SectionProgram, form: string): string {
  if (!prog.attachTo) throw new UsageError('BAD_ARGUMENT', `${prog.what}: section "${prog.section}" names no target, so it cannot attach by section`, { hint: `use SEC("${form}"), or the attach function of its kind with the target` });
  return prog.attachTo;
}

/** Attach `prog` where its section says (and `target` completes). */
export function attachBySection(prog: SectionProgram, target: AttachTarget = {}): Attachment {
  const section = prog.section.replace(/^\?/, '');
  const kind = section.split('/')[0]!;
  const sub = section.includes('/') ? section.slice(section.indexOf('/') + 1) : '';
  const cookie = target.cookie;
  switch (prog.type) {
    case ProgType.TRACEPOINT: {
      const [category, name, ...rest] = needTarget(prog, 'tracepoint/CATEGORY/NAME').split('/');
      if (!category || !name || rest.length) throw new UsageError('BAD_ARGUMENT', `${prog.what}: section "${prog.section}" must be tracepoint/CATEGORY/NAME to attach`);
      return attachTracepoint(prog, category, name, { cookie });
    }
    case ProgType.RAW_TRACEPOINT:
    case ProgType.RAW_TRACEPOINT_WRITABLE:
      return attachRawTracepoint(prog, needTarget(prog, 'raw_tp/NAME'));
    case ProgType.TRACING:
      if (prog.expectedAttachType === AttachType.TRACE_ITER) return attachIter(prog, { map: target.map, ...target.iter });
      return attachTracing(prog);
    case ProgType.LSM:
      if (prog.expectedAttachType === AttachType.LSM_CGROUP) return attachCgroup(prog, need(target.cgroup, prog, 'a cgroup', "{ cgroup: '/sys/fs/cgroup/my-group' }"));
      return attachTracing(prog);
    case ProgType.KPROBE:
      return attachProbe(prog, kind, target);
    case ProgType.XDP:
      return attachXdp(prog, need(target.interface, prog, 'a network interface', "{ interface: 'eth0' }"), { netns: target.netns, mode: target.mode });
    case ProgType.SCHED_CLS: {
      const fromSection = sub === 'ingress' || sub === 'egress' ? sub : undefined;
      return attachTc(prog, need(target.interface, prog, 'a network interface', "{ interface: 'eth0', direction: 'ingress' }"), { netns: target.netns, direction: target.direction ?? fromSection });
    }
    case ProgType.SOCKET_FILTER:
      return attachSocketFilter(prog, need(target.socket, prog, 'a socket', '{ socket: mySocket }'));
    case ProgType.SK_LOOKUP:
    case ProgType.FLOW_DISSECTOR:
      return attachNetns(prog, target.netns);
    case ProgType.SK_MSG:
    case ProgType.SK_SKB:
      return attachToMap(prog, need(target.map, prog, 'a SOCKMAP or SOCKHASH', '{ map: loaded.maps.get("sock_map") }'));
    default:
      if (CGROUP_TYPES.has(prog.type)) return attachCgroup(prog, need(target.cgroup, prog, 'a cgroup', "{ cgroup: '/sys/fs/cgroup/my-group' }"), { attachType: target.attachType });
      throw new UsageError('NOT_SUPPORTED', `${prog.what} (section "${prog.section}") cannot be attached by section`, { hint: 'use the attach function of its kind' });
  }
}

function attachProbe(prog: SectionProgram, kind: string, target: AttachTarget): Attachment {
  const base = kind.replace(/\.s$/, '');
  const cookie = target.cookie;
  switch (base) {
    case 'kprobe':
    case 'kretprobe':
      return attachKprobe(prog, needTarget(prog, `${base}/FUNCTION`), { retprobe: base === 'kretprobe', cookie });
    case 'ksyscall':
    case 'kretsyscall':
      return attachKprobe(prog, syscallFunction(needTarget(prog, `${base}/SYSCALL`)), { retprobe: base === 'kretsyscall', cookie });
    case 'kprobe.multi':
    case 'kretprobe.multi':
      return attachKprobeMulti(prog, { pattern: needTarget(prog, `${base}/PATTERN`), retprobe: base === 'kretprobe.multi' });
    case 'uprobe':
    case 'uretprobe': {
      const t = parseUprobeTarget(needTarget(prog, `${base}/BINARY:FUNCTION`));
      return attachUprobe(prog, t.binary, { symbol: t.symbol, offset: t.offset, retprobe: base === 'uretprobe', pid: target.pid, cookie });
    }
    case 'uprobe.multi':
    case 'uretprobe.multi': {
      const spec = needTarget(prog, `${base}/BINARY:PATTERN`);
      const at = spec.lastIndexOf(':');
      if (at <= 0) throw new UsageError('BAD_ARGUMENT', `${prog.what}: section "${prog.section}" must be ${base}/BINARY:PATTERN`);
      return attachUprobeMulti(prog, spec.slice(0, at), { pattern: spec.slice(at + 1), retprobe: base === 'uretprobe.multi', pid: target.pid });
    }
    default:
      throw new UsageError('NOT_SUPPORTED', `${prog.what} (section "${prog.section}") cannot be attached by section`, {
        hint: base === 'usdt' ? 'USDT probes are not supported yet: attach a uprobe at the probe\'s address (attachUprobe with offset and refCtrOffset)' : 'use attachKprobe() or attachUprobe() with the target',
      });
  }
}
