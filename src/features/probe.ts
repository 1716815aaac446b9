// Feature probes: ask the running kernel, with tiny throwaway objects, whether it has a feature.
// Each answer is computed once per process (tests can override or forget answers).
import { existsSync, mkdirSync, openSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { callHelper, encode, exit, movR0 } from '../asm/encode.js';
import { helperId } from '../asm/helpers.js';
import { BtfKind } from '../btf/kinds.js';
import { kernelBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { UsageError } from '../errors.js';
import { linkCreateTry, mapCreate, mapCreateTry, progLoadTry } from '../sys/commands.js';
import { Errno } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { perfEventOpen } from '../sys/perf.js';
import { AttachType, enumName, MapType, ProgType } from '../uapi/enums.js';

const cache = new Map<string, boolean>();

function once(name: string, probe: () => boolean): boolean {
  let v = cache.get(name);
  if (v === undefined) {
    v = probe();
    cache.set(name, v);
  }
  return v;
}

/** A named probe of this process's cache: computed once, forgotten by resetProbes, set by overrideProbe (features/api.ts adds its probes through it). */
export const cachedProbe = once;

function loadTiny(type: number, expectedAttachType: number, body: Buffer, what: string): Fd | undefined {
  return progLoadTry({ prog_type: type, insn_cnt: body.length / 8, insns: body, license: 'GPL', prog_name: 'probe', expected_attach_type: expectedAttachType }, what).fd;
}

function sockhash(what: string): Fd {
  return mapCreate({ map_type: MapType.SOCKHASH, key_size: 4, value_size: 8, max_entries: 1, map_name: 'probe' }, what);
}

/** Whether the kernel creates maps of this type (a one-entry map with plain sizes). */
export function hasMapType(type: number): boolean {
  return once(`map:${type}`, () => {
    const special = type === MapType.SOCKHASH || type === MapType.SOCKMAP ? { key_size: 4, value_size: 8 }
      : type === MapType.RINGBUF || type === MapType.USER_RINGBUF ? { key_size: 0, value_size: 0, max_entries: 4096 }
      : type === MapType.QUEUE || type === MapType.STACK || type === MapType.BLOOM_FILTER ? { key_size: 0, value_size: 4 }
      : type === MapType.ARENA ? { key_size: 0, value_size: 0, map_flags: 1 << 10 /* BPF_F_MMAPABLE */ }
      : { key_size: 4, value_size: 4 };
    const r = mapCreateTry({ map_type: type, max_entries: 1, ...special, map_name: 'probe' }, `probe map (${enumName(MapType, type)})`);
    r.fd?.close();
    return r.fd !== undefined;
  });
}

/**
 * Whether programs of `progType` may call the helper `helper` (a name as in bpf_helpers.h without
 * the bpf_ prefix, e.g. "get_netns_cookie"): the verifier is asked with a two-instruction program.
 */
export function hasHelper(progType: number, helper: string, expectedAttachType = 0): boolean {
  const id = helperId(helper);
  if (id === undefined) throw new UsageError('BAD_ARGUMENT', `unknown BPF helper "${helper}"`, { hint: 'use the name from bpf_helpers.h without the bpf_ prefix, e.g. "get_netns_cookie"' });
  return once(`helper:${progType}:${id}:${expectedAttachType}`, () => {
    const fd = loadTiny(progType, expectedAttachType, encode([callHelper(id), movR0(1), exit()]), `probe program (${enumName(ProgType, progType)} calling bpf_${helper})`);
    fd?.close();
    return fd !== undefined;
  });
}

/** bpf_link on a SOCKMAP/SOCKHASH for sk_msg (kernel 6.10+). Otherwise PROG_ATTACH on the map. */
export function hasSockmapLinks(): boolean {
  return once('sockmap-links', () => {
    const prog = loadTiny(ProgType.SK_MSG, AttachType.SK_MSG_VERDICT, encode([movR0(1), exit()]), 'probe program (sk_msg)');
    if (!prog) return false;
    let map: Fd | undefined;
    try {
      map = sockhash('probe map (sockhash)');
      const r = linkCreateTry({ prog_fd: prog.value, target_fd: map.value, attach_type: AttachType.SK_MSG_VERDICT }, 'probe link (sk_msg on sockhash)');
      r.fd?.close();
      return r.fd !== undefined;
    } catch {
      return false;
    } finally {
      map?.close();
      prog.close();
    }
  });
}

/**
 * bpf_link on cgroups (5.7+). Probed on a fresh, empty child cgroup of `cgroupRoot` that is removed
 * again: a probe must never attach anything, even briefly, where real processes live.
 */
export function hasCgroupLinks(cgroupRoot: string): { ok: boolean; errno: number } {
  const prog = loadTiny(ProgType.SOCK_OPS, 0, encode([movR0(1), exit()]), 'probe program (sock_ops)');
  if (!prog) return { ok: false, errno: Errno.EPERM };
  const dir = join(cgroupRoot, `sockaccel-probe-${process.pid}`);
  let cgroup: Fd | undefined;
  try {
    mkdirSync(dir);
    cgroup = new Fd(openSync(dir, 'r'));
    const r = linkCreateTry({ prog_fd: prog.value, target_fd: cgroup.value, attach_type: AttachType.CGROUP_SOCK_OPS }, 'probe link (sock_ops on an empty cgroup)');
    r.fd?.close();
    return { ok: r.fd !== undefined, errno: r.errno };
  } finally {
    cgroup?.close();
    prog.close();
    try { rmdirSync(dir); } catch { /* not created */ }
  }
}

/** bpf_get_attach_cookie (5.15+): what libbpf's LINUX_HAS_BPF_COOKIE kconfig extern reads. */
export function hasBpfCookie(): boolean {
  return hasHelper(ProgType.TRACEPOINT, 'get_attach_cookie');
}

/**
 * Multi-uprobe links with working PID filtering (6.6+), libbpf's FEAT_UPROBE_MULTI_LINK: usdt
 * programs then load with expected attach type TRACE_UPROBE_MULTI. Asked as libbpf asks: a uprobe
 * multi link on "/" must fail with EBADF, and with pid -1 with EINVAL.
 */
export function hasUprobeMultiLink(): boolean {
  return once('uprobe-multi-link', () => {
    const prog = loadTiny(ProgType.KPROBE, AttachType.TRACE_UPROBE_MULTI, encode([movR0(0), exit()]), 'probe program (kprobe, uprobe.multi)');
    if (!prog) return false;
    try {
      const offsets = Buffer.alloc(8);
      const link = (pid?: number) => linkCreateTry({
        prog_fd: prog.value, target_fd: -1, attach_type: AttachType.TRACE_UPROBE_MULTI,
        'uprobe_multi.path': '/', 'uprobe_multi.offsets': offsets, 'uprobe_multi.cnt': 1, ...(pid !== undefined ? { 'uprobe_multi.pid': pid } : {}),
      }, 'probe link (uprobe.multi on /)');
      const first = link();
      first.fd?.close();
      if (first.fd || first.errno !== Errno.EBADF) return false;
      const second = link(-1);
      second.fd?.close();
      return !second.fd && second.errno === Errno.EINVAL;
    } finally {
      prog.close();
    }
  });
}

/** The arch prefix of syscall wrappers (libbpf's arch_specific_syscall_pfx). */
const SYSCALL_PREFIX: Record<string, string> = { x64: 'x64', ia32: 'ia32', arm64: 'arm64', s390x: 's390x', s390: 's390', arm: 'arm', loong64: 'loong64', riscv64: 'riscv', ppc64: 'powerpc', mips64el: 'mips' };

/**
 * The kernel's syscalls are __<arch>_sys_* wrappers and kprobes can hook them (libbpf's
 * FEAT_SYSCALL_WRAPPER, what LINUX_HAS_SYSCALL_WRAPPER reads): libbpf opens a kprobe perf event on
 * __<arch>_sys_bpf; we ask the same of the kprobe PMU, and without one (no CONFIG_KPROBE_EVENTS)
 * the answer is no, as libbpf's legacy fallback finds.
 */
export function hasSyscallWrapper(): boolean {
  return once('syscall-wrapper', () => {
    const prefix = SYSCALL_PREFIX[process.arch];
    if (!prefix) return false;
    let type: number;
    try {
      type = Number(readFileSync('/sys/bus/event_source/devices/kprobe/type', 'utf8').trim());
    } catch {
      return false;
    }
    try {
      const fd = perfEventOpen({ type, config: 0n, kprobe_func: `__${prefix}_sys_bpf`, probe_offset: 0n }, process.pid, -1, 'probe kprobe (syscall wrapper)');
      fd.close();
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Load `r0 = 0; exit` as a program of this kind (type, attach type, attach BTF target), to tell a
 * kernel that refuses the kind itself (EPERM for fentry without trampolines) from one that refuses
 * a particular program. Returns 0 when it loads, else the errno.
 */
export function probeProgramKind(v: { type: number; expectedAttachType: number; attachBtfId?: number; attachBtfObjFd?: number; attachProgFd?: number; flags?: number }): number {
  const key = `kind:${v.type}:${v.expectedAttachType}:${v.attachBtfId ?? 0}:${v.attachBtfObjFd ? 'mod' : ''}:${v.attachProgFd ? 'prog' : ''}:${v.flags ?? 0}`;
  const known = errnoCache.get(key);
  if (known !== undefined) return known;
  const insns = encode([movR0(0), exit()]);
  const r = progLoadTry({
    prog_type: v.type, insn_cnt: insns.length / 8, insns, license: 'GPL', prog_name: 'probe', expected_attach_type: v.expectedAttachType,
    attach_btf_id: v.attachBtfId, attach_btf_obj_fd: v.attachBtfObjFd, attach_prog_fd: v.attachProgFd, prog_flags: v.flags,
  }, `probe program (${enumName(ProgType, v.type)}, attach type ${enumName(AttachType, v.expectedAttachType)})`);
  r.fd?.close();
  const errno = r.fd ? 0 : r.errno;
  if (!v.attachBtfObjFd && !v.attachProgFd) errnoCache.set(key, errno);
  return errno;
}

const errnoCache = new Map<string, number>();

/** Errnos that mean "this kernel has no such link type" rather than a real failure. */
export function isLinkUnsupported(errno: number): boolean {
  return errno === Errno.EINVAL || errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP || errno === Errno.E2BIG;
}

/**
 * Tests only: answer `value` for a probe instead of asking the kernel (undefined: ask it again), so
 * the paths of kernels that lack a feature are tested on any kernel. Names: "sockmap-links",
 * "map:<type>", "helper:<progType>:<helperId>:<attachType>", "uprobe-multi-link", "syscall-wrapper".
 */
export function overrideProbe(name: string, value: boolean | undefined): void {
  if (value === undefined) cache.delete(name);
  else cache.set(name, value);
}

/** Forget cached answers (tests). */
export function resetProbes(): void {
  cache.clear();
  errnoCache.clear();
}

/** The overrideProbe() name of a hasHelper() answer. */
export function helperProbeName(progType: number, helper: string, expectedAttachType = 0): string {
  return `helper:${progType}:${helperId(helper)}:${expectedAttachType}`;
}

/** Whether the running kernel has BTF (/sys/kernel/btf/vmlinux): CO-RE and BTF-attached programs need it. */
export function hasKernelBtf(): boolean {
  return once('kernel-btf', () => existsSync(VMLINUX_BTF));
}

/** Whether the kernel's BTF has the BTF-typed tracepoint `name` (a tp_btf/NAME program can attach). */
export function hasBtfTracepoint(name: string): boolean {
  return once(`btf-tracepoint:${name}`, () => hasKernelBtf() && kernelHasType(`btf_trace_${name}`, BtfKind.TYPEDEF));
}

/** Whether the kernel's BTF has the function `name` (an fentry/fexit target, when trampolines exist). */
export function hasKernelFunction(name: string): boolean {
  return once(`btf-function:${name}`, () => hasKernelBtf() && kernelHasType(name, BtfKind.FUNC));
}

function kernelHasType(name: string, kind: number): boolean {
  const btf = kernelBtf(VMLINUX_BTF);
  return btf.idsByEssentialName(name).some((i) => btf.kindOf(i) === kind && btf.type(i).name === name);
}

// ---- Map batch commands (issue 13, maps) — one append-only block (its imports kept here for the merge) ----
import { mapBatchTry } from '../sys/commands.js';
import { Cmd } from '../uapi/enums.js';

/** The four batch operations (BPF_MAP_LOOKUP_BATCH, _LOOKUP_AND_DELETE_BATCH, _UPDATE_BATCH, _DELETE_BATCH). */
export type MapBatchOp = 'lookup' | 'lookup_and_delete' | 'update' | 'delete';

const BATCH_CMD: Record<MapBatchOp, number> = {
  lookup: Cmd.MAP_LOOKUP_BATCH, lookup_and_delete: Cmd.MAP_LOOKUP_AND_DELETE_BATCH, update: Cmd.MAP_UPDATE_BATCH, delete: Cmd.MAP_DELETE_BATCH,
};

/** The overrideProbe() name of a hasMapBatch() answer: "map-batch:<op>:<map type>". */
export function mapBatchProbeName(op: MapBatchOp, mapType: number): string {
  return `map-batch:${op}:${mapType}`;
}

/**
 * Whether the kernel has batch operation `op` for maps of this type (5.6+ for hash maps, 5.9+ for
 * arrays; never for some types). Asked once per type with a one-entry map of the same shape and a
 * batch of zero elements: the kernel says ENOTSUPP for a type without it, EINVAL without the command.
 * A type that cannot be created that way (map-in-map) answers no: its callers then go element by element.
 */
export function hasMapBatch(op: MapBatchOp, shape: { type: number; keySize: number; valueSize: number; flags: number }): boolean {
  return once(mapBatchProbeName(op, shape.type), () => {
    const what = `probe map (${enumName(MapType, shape.type)}, batch ${op})`;
    const made = mapCreateTry({ map_type: shape.type, key_size: shape.keySize, value_size: shape.valueSize, max_entries: 1, map_flags: shape.flags, map_name: 'probe' }, what);
    if (!made.fd) return false;
    try {
      return mapBatchTry(BATCH_CMD[op], { map_fd: made.fd.value, count: 0 }, what).errno === 0;
    } finally {
      made.fd.close();
    }
  });
}

// ---- Attach kinds (issue 13): perf-event, XDP and tcx links, kprobe/uprobe PMUs, kernel structs.
// overrideProbe names: "perf-links", "xdp-links", "tcx-links", "kprobe-pmu", "uprobe-pmu",
// "kernel-struct:<name>" — forcing one false makes the attach functions take their fallback.

/** Whether the kernel's BTF has `struct name` (a feature's own object type: bpf_xdp_link, tcx_link…). */
export function hasKernelStruct(name: string): boolean {
  return once(`kernel-struct:${name}`, () => hasKernelBtf() && kernelHasType(name, BtfKind.STRUCT));
}

/** The running kernel is at least major.minor (from uname), for features no probe can ask about safely. */
export function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release());
  if (!m) return true;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/**
 * bpf_link on perf events (5.15+): tracepoints, kprobes and uprobes get a link that can be pinned.
 * Asked as libbpf asks: BPF_LINK_CREATE with BPF_PERF_EVENT on fd -1 says EBADF when the kind exists.
 */
export function hasPerfEventLinks(): boolean {
  return once('perf-links', () => {
    const prog = loadTiny(ProgType.TRACEPOINT, 0, encode([movR0(0), exit()]), 'probe program (tracepoint)');
    if (!prog) return false;
    try {
      const r = linkCreateTry({ prog_fd: prog.value, target_fd: -1, attach_type: AttachType.PERF_EVENT }, 'probe link (perf event on fd -1)');
      r.fd?.close();
      return r.errno === Errno.EBADF;
    } finally {
      prog.close();
    }
  });
}

/** bpf_link for XDP (5.9+): the kernel's BTF has struct bpf_xdp_link; without BTF, the version says. */
export function hasXdpLinks(): boolean {
  return once('xdp-links', () => (hasKernelBtf() ? hasKernelStruct('bpf_xdp_link') : kernelAtLeast(5, 9)));
}

/**
 * tcx links (6.6+). Asked without attaching anything: BPF_LINK_CREATE with BPF_TCX_INGRESS on
 * ifindex 0 says ENODEV where tcx exists, EINVAL (unknown attach type) where it does not.
 */
export function hasTcxLinks(): boolean {
  return once('tcx-links', () => {
    const prog = loadTiny(ProgType.SCHED_CLS, 0, encode([movR0(0), exit()]), 'probe program (sched_cls)');
    if (!prog) return false;
    try {
      const r = linkCreateTry({ prog_fd: prog.value, target_ifindex: 0, attach_type: AttachType.TCX_INGRESS }, 'probe link (tcx on ifindex 0)');
      r.fd?.close();
      return r.errno === Errno.ENODEV;
    } finally {
      prog.close();
    }
  });
}

/** The dynamic kprobe / uprobe PMU (4.17+): otherwise probes are made through tracefs *_events. */
export function hasProbePmu(kind: 'kprobe' | 'uprobe'): boolean {
  return once(`${kind}-pmu`, () => existsSync(`/sys/bus/event_source/devices/${kind}/type`));
}
