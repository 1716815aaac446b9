// features: what the running kernel can do, asked the way cilium/ebpf's features package asks —
// with tiny throwaway objects — and answered as { ok, reason, needs }: the reason names what was
// tried and what the kernel said; `needs` says what would bring the feature (a newer kernel, or a
// kernel configuration symbol) from the table of releases in requirements.ts. Every answer is
// computed once per process through probe.ts's cache, so overrideProbe(name, value) decides it in
// tests (featureProbeName() gives the names: "feature-map:<type>", "prog:<type>", "feature:<name>",
// "feature-helper:<type>:<id>", and the older probes' own: "sockmap-links", "uprobe-multi-link").
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { callHelper, encode, exit, movR0 } from '../asm/encode.js';
import { helperId } from '../asm/helpers.js';
import { BtfKind } from '../btf/kinds.js';
import { kernelBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { UsageError } from '../errors.js';
import { cgroupV2Root } from '../link/cgroup.js';
import { readKernelConfig, runningKernelVersion } from '../load/kconfig.js';
import { linkCreateTry, progLoadTry } from '../sys/commands.js';
import { Errno, errnoName } from '../sys/errno.js';
import { tracingDirs } from '../sys/tracefs.js';
import { AttachType, enumName, MapType, ProgFlag, ProgType } from '../uapi/enums.js';
import { probeMapType } from './map-probe.js';
import { cachedProbe, hasCgroupLinks, hasHelper, hasSockmapLinks, hasUprobeMultiLink, helperProbeName, overrideProbe } from './probe.js';
import { HELPERS, MAP_TYPES, NAMED, PROGRAM_TYPES, type Requirement } from './requirements.js';

export interface FeatureAnswer {
  ok: boolean;
  /** Why not: what was tried and what the kernel answered. */
  reason?: string;
  /** What would bring it: "kernel 6.6" (this one is older) or "CONFIG_NETKIT" (this one is new enough). */
  needs?: string;
}

export type FeatureName = keyof typeof NAMED;

/** Why each probe said no, by probe name (the boolean itself lives in probe.ts's cache). */
const reasons = new Map<string, string>();

function probe(name: string, run: () => string | undefined): boolean {
  return cachedProbe(name, () => {
    const why = run();
    if (why === undefined) return true;
    reasons.set(name, why);
    return false;
  });
}

/** "6.18.0-1-amd64" → [6, 18]. */
function runningRelease(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

let config: Map<string, string> | null | undefined;
/** Whether the running kernel was built with `symbol` (=y or =m); undefined when its config is not readable. */
function configured(symbol: string): boolean | undefined {
  if (config === undefined) {
    const text = readKernelConfig()?.text;
    config = text ? new Map([...text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!])) : null;
  }
  if (config === null) return undefined;
  const v = config.get(symbol);
  return v === 'y' || v === 'm';
}

/**
 * What would bring a missing feature: "kernel X" when this one is older than the release that added
 * it; else its configuration symbol, unless the kernel's config says that one is set (then nothing
 * is missing that a table can name, and the reason says what the kernel answered).
 */
export function needsText(req: Requirement | undefined, running: [number, number] = runningRelease(), isSet: (symbol: string) => boolean | undefined = configured): string | undefined {
  if (!req) return undefined;
  const [maj, min] = req.kernel.split('.').map(Number) as [number, number];
  const older = running[0] < maj || (running[0] === maj && running[1] < min);
  if (older) return `kernel ${req.kernel}`;
  return req.config && isSet(req.config) !== true ? req.config : undefined;
}

function answer(ok: boolean, probeName: string, req: Requirement | undefined, fallback: string): FeatureAnswer {
  if (ok) return { ok: true };
  const needs = needsText(req);
  return { ok: false, reason: reasons.get(probeName) ?? fallback, ...(needs ? { needs } : {}) };
}

function typeNumber(table: Record<string, number>, what: string, type: number | string): number {
  const n = typeof type === 'number' ? type : table[type.toUpperCase()];
  if (n === undefined || !Object.values(table).includes(n) || n === 0) {
    throw new UsageError('BAD_ARGUMENT', `unknown ${what} ${JSON.stringify(type)}`, { hint: `one of: ${Object.keys(table).filter((k) => k !== 'UNSPEC').join(', ')}` });
  }
  return n;
}

/** Whether the kernel's BTF has `enum NAME` with the value `member` (what a kernel knows it has). */
function kernelEnumHas(name: string, member: string): boolean | undefined {
  if (!existsSync(VMLINUX_BTF)) return undefined;
  const btf = kernelBtf(VMLINUX_BTF);
  for (const id of btf.idsByEssentialName(name)) {
    const t = btf.type(id);
    if (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) return t.values.some((v) => v.name === member);
  }
  return undefined;
}

/** The id of the kernel function `name` in vmlinux BTF (attach_btf_id for fentry/lsm/iter probes). */
function kernelFunc(name: string): number | undefined {
  if (!existsSync(VMLINUX_BTF)) return undefined;
  const btf = kernelBtf(VMLINUX_BTF);
  return btf.idsByEssentialName(name).find((i) => btf.kindOf(i) === BtfKind.FUNC);
}

function errnoText(errno: number): string {
  return `${errnoName(errno)} (errno ${errno})`;
}

/** Load `r0 = 0; exit` of this type; undefined when it loads, else why not. */
function tryLoad(type: number, expectedAttachType = 0, attachBtfId?: number, body = encode([movR0(0), exit()])): string | undefined {
  const r = progLoadTry({
    prog_type: type, insn_cnt: body.length / 8, insns: body, license: 'GPL', prog_name: 'probe', expected_attach_type: expectedAttachType,
    attach_btf_id: attachBtfId, kern_version: runningKernelVersion(),
    // SYSCALL programs load only as sleepable ones.
    prog_flags: type === ProgType.SYSCALL ? ProgFlag.SLEEPABLE : 0,
  }, `probe program (${enumName(ProgType, type)})`);
  if (r.fd) {
    r.fd.close();
    return undefined;
  }
  return `the kernel refused a ${enumName(ProgType, type)} program: ${errnoText(r.errno)}${r.errno === Errno.EPERM ? ' (without root, or a lockdown/LSM refuses it)' : ''}`;
}

/** Program types the kernel only loads with an expected attach type (or a BTF target). */
const LOAD_AS: Partial<Record<number, { attachType: number; func?: string }>> = {
  [ProgType.CGROUP_SOCK_ADDR]: { attachType: AttachType.CGROUP_INET4_CONNECT },
  [ProgType.CGROUP_SOCKOPT]: { attachType: AttachType.CGROUP_GETSOCKOPT },
  [ProgType.SK_LOOKUP]: { attachType: AttachType.SK_LOOKUP },
  [ProgType.NETFILTER]: { attachType: AttachType.NETFILTER },
  [ProgType.TRACING]: { attachType: AttachType.TRACE_FENTRY, func: 'bpf_fentry_test1' },
  [ProgType.LSM]: { attachType: AttachType.LSM_MAC, func: 'bpf_lsm_file_open' },
};

function probeProgramType(type: number): string | undefined {
  if (type === ProgType.EXT || type === ProgType.STRUCT_OPS) {
    // Both load only against a target (a program's BTF, a kernel struct_ops type): ask the kernel's BTF whether it knows the type.
    const known = kernelEnumHas('bpf_prog_type', `BPF_PROG_TYPE_${enumName(ProgType, type)}`);
    if (known === undefined) return `cannot tell without kernel BTF (${VMLINUX_BTF}): ${enumName(ProgType, type)} programs load only against a target`;
    return known ? undefined : `this kernel's enum bpf_prog_type has no BPF_PROG_TYPE_${enumName(ProgType, type)}`;
  }
  const as = LOAD_AS[type];
  let btfId: number | undefined;
  if (as?.func) {
    btfId = kernelFunc(as.func);
    if (btfId === undefined) return `no FUNC ${as.func} in the kernel's BTF to load a ${enumName(ProgType, type)} probe against (needs CONFIG_DEBUG_INFO_BTF)`;
  }
  return tryLoad(type, as?.attachType ?? 0, btfId);
}

/** LINK_CREATE of a fresh `r0 = 0` program of `type` with `attachType` and `target`; the errno (0: a link was made). */
function linkErrno(type: number, attachType: number, target: { target_fd?: number; target_ifindex?: number; flags?: Record<string, unknown> }): number | string {
  const body = encode([movR0(0), exit()]);
  const prog = progLoadTry({ prog_type: type, insn_cnt: body.length / 8, insns: body, license: 'GPL', prog_name: 'probe', expected_attach_type: attachType, kern_version: runningKernelVersion() },
    `probe program (${enumName(ProgType, type)})`);
  if (!prog.fd) return `the kernel refused the ${enumName(ProgType, type)} program the probe links: ${errnoText(prog.errno)}`;
  try {
    const r = linkCreateTry({ prog_fd: prog.fd.value, attach_type: attachType, ...(target.target_ifindex !== undefined ? { target_ifindex: target.target_ifindex } : { target_fd: target.target_fd ?? 0 }), ...target.flags },
      `probe link (${enumName(AttachType, attachType)})`);
    r.fd?.close();
    return r.fd ? 0 : r.errno;
  } finally {
    prog.fd.close();
  }
}

/**
 * A link probe that must fail, on a kernel with the link kind, with `expect` (an error only the
 * kind's own code returns: ENODEV for an ifindex 0, EBADF for an fd -1), so nothing is attached.
 */
function linkRefusedWith(kind: string, expect: number, type: number, attachType: number, target: Parameters<typeof linkErrno>[2]): string | undefined {
  const e = linkErrno(type, attachType, target);
  if (typeof e === 'string') return e;
  if (e === expect) return undefined;
  if (e === 0) return undefined;
  return `LINK_CREATE with attach type ${enumName(AttachType, attachType)} answered ${errnoText(e)}, not the ${errnoName(expect)} a kernel with ${kind} links gives`;
}

function pmu(name: string): string | undefined {
  return existsSync(`/sys/bus/event_source/devices/${name}/type`) ? undefined : `no ${name} PMU (/sys/bus/event_source/devices/${name} is missing)`;
}

const NAMED_PROBES: Record<FeatureName, () => string | undefined> = {
  kprobe: () => {
    const noPmu = pmu('kprobe');
    if (!noPmu) return undefined;
    return tracingDirs().some((d) => existsSync(`${d}/kprobe_events`)) ? undefined : `${noPmu} and no kprobe_events in tracefs: this kernel has no kprobes`;
  },
  uprobe: () => {
    const noPmu = pmu('uprobe');
    if (!noPmu) return undefined;
    return tracingDirs().some((d) => existsSync(`${d}/uprobe_events`)) ? undefined : `${noPmu} and no uprobe_events in tracefs`;
  },
  tracepoint: () => (tracingDirs().some((d) => existsSync(`${d}/events`)) ? tryLoad(ProgType.TRACEPOINT) : 'no tracefs events directory (mount tracefs at /sys/kernel/tracing)'),
  raw_tracepoint: () => tryLoad(ProgType.RAW_TRACEPOINT),
  perf_link: () => linkRefusedWith('perf_event', Errno.EBADF, ProgType.TRACEPOINT, AttachType.PERF_EVENT, { target_fd: -1 }),
  kprobe_multi: () => {
    // Invalid kprobe_multi flags: EINVAL from the kprobe_multi code, EOPNOTSUPP without CONFIG_FPROBE.
    const e = linkErrno(ProgType.KPROBE, AttachType.TRACE_KPROBE_MULTI, { target_fd: 0, flags: { 'kprobe_multi.flags': 0xfffe } });
    if (typeof e === 'string') return e;
    if (e === Errno.EOPNOTSUPP) return `LINK_CREATE kprobe_multi answered ${errnoText(e)}: the kernel is built without CONFIG_FPROBE`;
    if (e !== Errno.EINVAL) return `LINK_CREATE kprobe_multi answered ${errnoText(e)}`;
    // EINVAL is also what kernels before kprobe_multi say: their BTF tells them apart.
    const known = kernelEnumHas('bpf_link_type', 'BPF_LINK_TYPE_KPROBE_MULTI');
    if (known === undefined) return `LINK_CREATE kprobe_multi answered EINVAL, which cannot be told from a kernel without kprobe_multi links without kernel BTF (${VMLINUX_BTF})`;
    return known ? undefined : 'this kernel\'s enum bpf_link_type has no BPF_LINK_TYPE_KPROBE_MULTI';
  },
  uprobe_multi: () => (hasUprobeMultiLink() ? undefined : 'a uprobe.multi link on "/" did not fail with EBADF, and with pid -1 with EINVAL, as on kernels with uprobe.multi links'),
  tracing: () => probeProgramType(ProgType.TRACING),
  iter: () => {
    const id = kernelFunc('bpf_iter_task');
    return id === undefined ? 'no FUNC bpf_iter_task in the kernel\'s BTF' : tryLoad(ProgType.TRACING, AttachType.TRACE_ITER, id);
  },
  cgroup_link: () => {
    let root: string;
    try {
      root = cgroupV2Root();
    } catch (e) {
      return `no cgroup v2 hierarchy to probe on: ${(e as Error).message}`;
    }
    const r = hasCgroupLinks(root);
    return r.ok ? undefined : `LINK_CREATE of a sock_ops program on an empty cgroup answered ${errnoText(r.errno)}`;
  },
  sockmap_link: () => (hasSockmapLinks() ? undefined : 'LINK_CREATE of an sk_msg program on a SOCKHASH was refused (PROG_ATTACH is then the way)'),
  netns_link: () => linkRefusedWith('netns', Errno.EBADF, ProgType.FLOW_DISSECTOR, AttachType.FLOW_DISSECTOR, { target_fd: -1 }),
  xdp_link: () => {
    // An XDP link on ifindex 0 fails with EINVAL on every kernel: the kernel's BTF says whether it has the link type.
    const known = kernelEnumHas('bpf_link_type', 'BPF_LINK_TYPE_XDP');
    if (known === undefined) return `cannot tell without kernel BTF (${VMLINUX_BTF}): a probe would have to attach XDP to a real interface`;
    return known ? tryLoad(ProgType.XDP, AttachType.XDP) : 'this kernel\'s enum bpf_link_type has no BPF_LINK_TYPE_XDP';
  },
  tcx: () => linkRefusedWith('tcx', Errno.ENODEV, ProgType.SCHED_CLS, AttachType.TCX_INGRESS, { target_ifindex: 0 }),
  netkit: () => linkRefusedWith('netkit', Errno.ENODEV, ProgType.SCHED_CLS, AttachType.NETKIT_PRIMARY, { target_ifindex: 0 }),
  netfilter_link: () => probeProgramType(ProgType.NETFILTER),
  bpf_cookie: () => (hasHelper(ProgType.TRACEPOINT, 'get_attach_cookie') ? undefined : 'the verifier refused bpf_get_attach_cookie in a tracepoint program'),
  ringbuf: () => haveMapType(MapType.RINGBUF).reason,
  arena: () => haveMapType(MapType.ARENA).reason,
};

/** Features that are an older probe of probe.ts under that probe's name (overrideProbe of it decides them). */
const OWN_PROBE: Partial<Record<string, () => string>> = {
  sockmap_link: () => 'sockmap-links',
  uprobe_multi: () => 'uprobe-multi-link',
  bpf_cookie: () => helperProbeName(ProgType.TRACEPOINT, 'get_attach_cookie'),
  ringbuf: () => `feature-map:${MapType.RINGBUF}`,
  arena: () => `feature-map:${MapType.ARENA}`,
};

/** Whether the kernel creates maps of this type (a number, or a name: "RINGBUF"). */
export function haveMapType(type: number | string): FeatureAnswer {
  const n = typeNumber(MapType, 'map type', type);
  const name = enumName(MapType, n);
  const probeName = `feature-map:${n}`;
  return answer(probe(probeName, () => probeMapType(n)), probeName, MAP_TYPES[name], `the kernel refused to create a ${name} map`);
}

/** Whether the kernel loads programs of this type (a number, or a name: "SK_MSG"). */
export function haveProgramType(type: number | string): FeatureAnswer {
  const n = typeNumber(ProgType, 'program type', type);
  const name = `prog:${n}`;
  return answer(probe(name, () => probeProgramType(n)), name, PROGRAM_TYPES[enumName(ProgType, n)], `the kernel refused a ${enumName(ProgType, n)} program`);
}

/** The verifier's words for a helper the program type may not call (older kernels: "unknown func"). */
const HELPER_UNAVAILABLE = /\b(invalid|unknown) func\b|program of this type cannot use helper/;

/**
 * Ask the verifier with a call of the helper and no arguments set up, as cilium/ebpf does: a helper
 * the type may not call is refused at the call ("invalid func bpf_x#n"); one it may call is refused,
 * if at all, later, over its arguments — which still means the helper is there.
 */
function probeHelper(type: number, helper: string): string | undefined {
  const as = LOAD_AS[type];
  let btfId: number | undefined;
  if (as?.func) {
    btfId = kernelFunc(as.func);
    if (btfId === undefined) return `no FUNC ${as.func} in the kernel's BTF to load a ${enumName(ProgType, type)} probe against`;
  }
  const body = encode([callHelper(helperId(helper)!), movR0(0), exit()]);
  const log = Buffer.alloc(64 * 1024);
  const r = progLoadTry({
    prog_type: type, insn_cnt: body.length / 8, insns: body, license: 'GPL', prog_name: 'probe', expected_attach_type: as?.attachType ?? 0,
    attach_btf_id: btfId, kern_version: runningKernelVersion(), prog_flags: type === ProgType.SYSCALL ? ProgFlag.SLEEPABLE : 0,
    log_level: 1, log_size: log.length, log_buf: log,
  }, `probe program (${enumName(ProgType, type)} calling bpf_${helper})`);
  if (r.fd) {
    r.fd.close();
    return undefined;
  }
  const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0)));
  if (r.errno === Errno.ENOSPC || !HELPER_UNAVAILABLE.test(text)) return r.errno === Errno.EACCES || r.errno === Errno.EINVAL || r.errno === Errno.ENOSPC ? undefined : `the probe program was refused: ${errnoText(r.errno)}`;
  const line = text.split('\n').find((l) => HELPER_UNAVAILABLE.test(l))?.trim();
  return `the verifier refused a call to bpf_${helper} from a ${enumName(ProgType, type)} program${line ? ` ("${line}")` : ''}: the helper is not available to that program type`;
}

/** Whether programs of `progType` may call `helper` (bpf_helpers.h's name without bpf_: "ringbuf_output"). */
export function haveHelper(progType: number | string, helper: string): FeatureAnswer {
  const t = typeNumber(ProgType, 'program type', progType);
  const bare = helper.replace(/^bpf_/, '');
  if (helperId(bare) === undefined) throw new UsageError('BAD_ARGUMENT', `unknown BPF helper "${helper}"`, { hint: 'use the name from bpf_helpers.h, e.g. "ringbuf_output" or "bpf_ringbuf_output"' });
  const type = haveProgramType(t);
  if (!type.ok) return { ok: false, reason: `${enumName(ProgType, t)} programs themselves: ${type.reason}`, ...(type.needs ? { needs: type.needs } : {}) };
  const name = `feature-helper:${t}:${helperId(bare)}`;
  if (probe(name, () => probeHelper(t, bare))) return { ok: true };
  const known = kernelEnumHas('bpf_func_id', `BPF_FUNC_${bare}`);
  if (known === false) {
    const needs = needsText(HELPERS[bare]);
    return { ok: false, reason: `this kernel does not know bpf_${bare} (its enum bpf_func_id has no BPF_FUNC_${bare})`, ...(needs ? { needs } : {}) };
  }
  return { ok: false, reason: reasons.get(name) ?? `the verifier refused a call to bpf_${bare} from a ${enumName(ProgType, t)} program: the helper is not available to that program type` };
}

/** Whether the kernel has an attach or link kind (or one of the named features of NAMED). */
export function haveLinkKind(kind: FeatureName | string): FeatureAnswer {
  const probeOf = NAMED_PROBES[kind as FeatureName];
  if (!probeOf) throw new UsageError('BAD_ARGUMENT', `unknown feature "${kind}"`, { hint: `one of: ${Object.keys(NAMED).join(', ')}` });
  const req = NAMED[kind];
  if (OWN_PROBE[kind]) {
    // An older probe (cached under its own name): its answer is this feature's.
    const why = probeOf();
    const needs = needsText(req);
    return why === undefined ? { ok: true } : { ok: false, reason: why, ...(needs ? { needs } : {}) };
  }
  const name = `feature:${kind}`;
  return answer(probe(name, probeOf), name, req, `no ${req!.what}`);
}

/** One row of `sockaccel-ffi features`. */
export interface FeatureRow extends FeatureAnswer {
  group: 'attach/link' | 'map type' | 'program type';
  name: string;
  what?: string;
  since: string;
  config?: string;
}

/** Every named feature, map type and program type with its answer (what the features verb prints). */
export function featureTable(groups: readonly FeatureRow['group'][] = ['attach/link', 'map type', 'program type']): FeatureRow[] {
  const rows: FeatureRow[] = [];
  const row = (group: FeatureRow['group'], name: string, req: Requirement, a: () => FeatureAnswer, what?: string) => {
    let ans: FeatureAnswer;
    try {
      ans = a();
    } catch (e) {
      ans = { ok: false, reason: `the probe failed: ${(e as Error).message}` };
    }
    rows.push({ group, name, ...(what ? { what } : {}), since: req.kernel, ...(req.config ? { config: req.config } : {}), ...ans });
  };
  if (groups.includes('attach/link')) for (const [n, r] of Object.entries(NAMED)) row('attach/link', n, r, () => haveLinkKind(n), r.what);
  if (groups.includes('map type')) for (const [n, r] of Object.entries(MAP_TYPES)) row('map type', n, r, () => haveMapType(n));
  if (groups.includes('program type')) for (const [n, r] of Object.entries(PROGRAM_TYPES)) row('program type', n, r, () => haveProgramType(n));
  return rows;
}

/** The probe name overrideProbe() takes for a named feature, a map type or a program type (tests). */
export function featureProbeName(what: { feature: FeatureName } | { mapType: number } | { programType: number } | { helper: [programType: number, name: string] }): string {
  if ('helper' in what) return `feature-helper:${what.helper[0]}:${helperId(what.helper[1].replace(/^bpf_/, ''))}`;
  if ('feature' in what) return OWN_PROBE[what.feature]?.() ?? `feature:${what.feature}`;
  if ('mapType' in what) return `feature-map:${what.mapType}`;
  return `prog:${what.programType}`;
}

/** Tests: decide a features answer without the kernel (value undefined: ask it again). */
export function overrideFeature(what: Parameters<typeof featureProbeName>[0], value: boolean | undefined, reason?: string): void {
  const name = featureProbeName(what);
  overrideProbe(name, value);
  if (reason !== undefined && value === false) reasons.set(name, reason);
  else reasons.delete(name);
}

/** The features API as one object, as cilium/ebpf's package: features.haveMapType(MapType.RINGBUF). */
export const features = {
  haveMapType, haveProgramType, haveHelper, haveLinkKind,
  /** The same as haveLinkKind: attach kinds and link kinds share one list of names. */
  haveAttachKind: haveLinkKind,
  table: featureTable,
  names: Object.keys(NAMED) as FeatureName[],
  requirements: { maps: MAP_TYPES, programs: PROGRAM_TYPES, helpers: HELPERS, named: NAMED },
} as const;
