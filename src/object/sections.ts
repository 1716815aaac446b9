// The one section-name table: which program type, expected attach type and load flags a SEC("...")
// name means. It is libbpf's table (tools/lib/bpf/libbpf.c section_defs, libbpf 1.5, plus the
// uprobe.session names of libbpf 1.6), with libbpf's matching rules:
//   "name+"  the name alone, or "name/anything" (attachTo = what follows the first '/')
//   "name/"  "name/anything" only
//   "name"   exactly the name
// Entries are tried in table order; the first match wins. A leading '?' (SEC("?tc")) means the
// program is not loaded unless asked for (autoload off), as in libbpf; it is not part of the name
// that is matched. An unknown name is not an error at open: the program has no type (UNSPEC) and
// load() refuses it, naming the section, unless the caller sets a type or turns autoload off.
import { ObjectError } from '../errors.js';
import { AttachType, ProgFlag, ProgType } from '../uapi/enums.js';

/** What the section implies beyond type and attach type (libbpf's SEC_* flags). */
export const SecFlag = {
  /** BPF_F_SLEEPABLE at load (".s" sections, "syscall"). */
  SLEEPABLE: 1,
  /** BPF_F_XDP_HAS_FRAGS at load ("xdp.frags*"). */
  XDP_FRAGS: 2,
  /** attach_btf_id is resolved from the section's target (tp_btf, fentry, lsm, iter, freplace). */
  ATTACH_BTF: 4,
  /** usdt: expected attach type TRACE_UPROBE_MULTI when the kernel has uprobe-multi links. */
  USDT: 8,
} as const;

export interface SectionDef {
  /** libbpf's spelling: "kprobe+", "sk_skb/stream_parser", "socket". */
  sec: string;
  type: number;
  expectedAttachType: number;
  /** SecFlag bits. */
  flags: number;
}

const def = (sec: string, type: number, expectedAttachType = 0, flags = 0): SectionDef => ({ sec, type, expectedAttachType, flags });
const P = ProgType;
const A = AttachType;
const { SLEEPABLE: S, XDP_FRAGS, ATTACH_BTF: BTF, USDT } = SecFlag;

/** libbpf's section_defs, in its order. */
export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', P.SOCKET_FILTER),
  def('sk_reuseport/migrate', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE),
  def('sk_reuseport', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT),
  def('kprobe+', P.KPROBE),
  def('uprobe+', P.KPROBE),
  def('uprobe.s+', P.KPROBE, 0, S),
  def('kretprobe+', P.KPROBE),
  def('uretprobe+', P.KPROBE),
  def('uretprobe.s+', P.KPROBE, 0, S),
  def('kprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI),
  def('kretprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI),
  def('kprobe.session+', P.KPROBE, A.TRACE_KPROBE_SESSION),
  def('uprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI),
  def('uretprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI),
  def('uprobe.session+', P.KPROBE, A.TRACE_UPROBE_SESSION),
  def('uprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, S),
  def('uretprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, S),
  def('uprobe.session.s+', P.KPROBE, A.TRACE_UPROBE_SESSION, S),
  def('ksyscall+', P.KPROBE),
  def('kretsyscall+', P.KPROBE),
  def('usdt+', P.KPROBE, 0, USDT),
  def('usdt.s+', P.KPROBE, 0, USDT | S),
  def('tc/ingress', P.SCHED_CLS, A.TCX_INGRESS), // libbpf ≥ 1.3: an alias of tcx/ingress
  def('tc/egress', P.SCHED_CLS, A.TCX_EGRESS),
  def('tcx/ingress', P.SCHED_CLS, A.TCX_INGRESS),
  def('tcx/egress', P.SCHED_CLS, A.TCX_EGRESS),
  def('tc', P.SCHED_CLS),
  def('classifier', P.SCHED_CLS),
  def('action', P.SCHED_ACT),
  def('netkit/primary', P.SCHED_CLS, A.NETKIT_PRIMARY),
  def('netkit/peer', P.SCHED_CLS, A.NETKIT_PEER),
  def('tracepoint+', P.TRACEPOINT),
  def('tp+', P.TRACEPOINT),
  def('raw_tracepoint+', P.RAW_TRACEPOINT),
  def('raw_tp+', P.RAW_TRACEPOINT),
  def('raw_tracepoint.w+', P.RAW_TRACEPOINT_WRITABLE),
  def('raw_tp.w+', P.RAW_TRACEPOINT_WRITABLE),
  def('tp_btf+', P.TRACING, A.TRACE_RAW_TP, BTF),
  def('fentry+', P.TRACING, A.TRACE_FENTRY, BTF),
  def('fmod_ret+', P.TRACING, A.MODIFY_RETURN, BTF),
  def('fexit+', P.TRACING, A.TRACE_FEXIT, BTF),
  def('fentry.s+', P.TRACING, A.TRACE_FENTRY, BTF | S),
  def('fmod_ret.s+', P.TRACING, A.MODIFY_RETURN, BTF | S),
  def('fexit.s+', P.TRACING, A.TRACE_FEXIT, BTF | S),
  def('freplace+', P.EXT, 0, BTF),
  def('lsm+', P.LSM, A.LSM_MAC, BTF),
  def('lsm.s+', P.LSM, A.LSM_MAC, BTF | S),
  def('lsm_cgroup+', P.LSM, A.LSM_CGROUP, BTF),
  def('iter+', P.TRACING, A.TRACE_ITER, BTF),
  def('iter.s+', P.TRACING, A.TRACE_ITER, BTF | S),
  def('syscall', P.SYSCALL, 0, S),
  def('xdp.frags/devmap', P.XDP, A.XDP_DEVMAP, XDP_FRAGS),
  def('xdp/devmap', P.XDP, A.XDP_DEVMAP),
  def('xdp.frags/cpumap', P.XDP, A.XDP_CPUMAP, XDP_FRAGS),
  def('xdp/cpumap', P.XDP, A.XDP_CPUMAP),
  def('xdp.frags', P.XDP, A.XDP, XDP_FRAGS),
  def('xdp', P.XDP, A.XDP),
  def('perf_event', P.PERF_EVENT),
  def('lwt_in', P.LWT_IN),
  def('lwt_out', P.LWT_OUT),
  def('lwt_xmit', P.LWT_XMIT),
  def('lwt_seg6local', P.LWT_SEG6LOCAL),
  def('sockops', P.SOCK_OPS, A.CGROUP_SOCK_OPS),
  def('sk_skb/stream_parser', P.SK_SKB, A.SK_SKB_STREAM_PARSER),
  def('sk_skb/stream_verdict', P.SK_SKB, A.SK_SKB_STREAM_VERDICT),
  def('sk_skb/verdict', P.SK_SKB, A.SK_SKB_VERDICT),
  def('sk_skb', P.SK_SKB),
  def('sk_msg', P.SK_MSG, A.SK_MSG_VERDICT),
  def('lirc_mode2', P.LIRC_MODE2, A.LIRC_MODE2),
  def('flow_dissector', P.FLOW_DISSECTOR, A.FLOW_DISSECTOR),
  def('cgroup_skb/ingress', P.CGROUP_SKB, A.CGROUP_INET_INGRESS),
  def('cgroup_skb/egress', P.CGROUP_SKB, A.CGROUP_INET_EGRESS),
  def('cgroup/skb', P.CGROUP_SKB),
  def('cgroup/sock_create', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/sock_release', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE),
  def('cgroup/sock', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/post_bind4', P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND),
  def('cgroup/post_bind6', P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND),
  def('cgroup/bind4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND),
  def('cgroup/bind6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND),
  def('cgroup/connect4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT),
  def('cgroup/connect6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT),
  def('cgroup/connect_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT),
  def('cgroup/sendmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG),
  def('cgroup/sendmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG),
  def('cgroup/sendmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG),
  def('cgroup/recvmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG),
  def('cgroup/recvmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG),
  def('cgroup/recvmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG),
  def('cgroup/getpeername4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME),
  def('cgroup/getpeername6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME),
  def('cgroup/getpeername_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME),
  def('cgroup/getsockname4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME),
  def('cgroup/getsockname6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME),
  def('cgroup/getsockname_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME),
  def('cgroup/sysctl', P.CGROUP_SYSCTL, A.CGROUP_SYSCTL),
  def('cgroup/getsockopt', P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT),
  def('cgroup/setsockopt', P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT),
  def('cgroup/dev', P.CGROUP_DEVICE, A.CGROUP_DEVICE),
  def('struct_ops+', P.STRUCT_OPS),
  def('struct_ops.s+', P.STRUCT_OPS, 0, S),
  def('sk_lookup', P.SK_LOOKUP, A.SK_LOOKUP),
  def('netfilter', P.NETFILTER, A.NETFILTER),
];

export interface ProgramKind {
  type: number;
  expectedAttachType: number;
  /** The part after the first '/' for "name+" entries ("" when there is none). */
  attachTo: string;
  /** SecFlag bits of the matching entry. */
  secFlags: number;
  /** BPF_F_* prog_flags the section implies (SLEEPABLE, XDP_HAS_FRAGS). */
  progFlags: number;
  /** The table entry that matched, in libbpf's spelling ("fentry+"). */
  sec: string;
}

function matches(d: SectionDef, name: string): boolean {
  const last = d.sec[d.sec.length - 1];
  if (last === '/') return name.startsWith(d.sec);
  if (last === '+') {
    const base = d.sec.slice(0, -1);
    return name.startsWith(base) && (name.length === base.length || name[base.length] === '/');
  }
  return name === d.sec;
}

/** BPF_F_* prog_flags a section's SecFlag bits imply for a program of `type`. */
export function progFlagsOf(secFlags: number, type: number): number {
  let flags = 0;
  if (secFlags & SecFlag.SLEEPABLE) flags |= ProgFlag.SLEEPABLE;
  if ((secFlags & SecFlag.XDP_FRAGS) && type === ProgType.XDP) flags |= ProgFlag.XDP_HAS_FRAGS;
  return flags;
}

/**
 * The program kind a section name means (without a leading '?': see splitAutoload), or undefined
 * when no entry of libbpf's table matches.
 */
export function lookupSection(name: string): ProgramKind | undefined {
  for (const d of SECTION_DEFS) {
    if (!matches(d, name)) continue;
    const slash = name.indexOf('/');
    const attachTo = d.sec.endsWith('+') && slash >= 0 ? name.slice(slash + 1) : '';
    return { type: d.type, expectedAttachType: d.expectedAttachType, attachTo, secFlags: d.flags, progFlags: progFlagsOf(d.flags, d.type), sec: d.sec };
  }
  return undefined;
}

/** SEC("?name"): autoload off, as libbpf. Returns the name to match and whether to load by default. */
export function splitAutoload(section: string): { name: string; autoload: boolean } {
  return section.startsWith('?') ? { name: section.slice(1), autoload: false } : { name: section, autoload: true };
}

/** The known names, for messages: "socket, kprobe[/...], sk_skb/stream_parser, ...". */
export function knownSectionNames(): string {
  return SECTION_DEFS.map((d) => (d.sec.endsWith('+') ? `${d.sec.slice(0, -1)}[/...]` : d.sec.endsWith('/') ? `${d.sec}...` : d.sec)).join(', ');
}

/** Like lookupSection, but an unknown name is an ObjectError naming the section and what is known. */
export function programKindOf(file: string, section: string): ProgramKind {
  const kind = lookupSection(splitAutoload(section).name);
  if (kind) return kind;
  throw unknownSectionError(file, section);
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length]![b.length]!;
}

/** Up to three known names closest to `section` (by its part before the first '/'). */
export function similarSectionNames(section: string): string[] {
  const head = section.split('/')[0]!;
  const bases = [...new Set(SECTION_DEFS.map((d) => d.sec.replace(/\+$/, '')))];
  return bases
    .map((b) => ({ b, d: Math.min(distance(head, b.split('/')[0]!), distance(section, b)) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(head.length / 3)))
    .sort((x, y) => x.d - y.d || x.b.length - y.b.length)
    .slice(0, 3)
    .map((x) => x.b);
}

export function unknownSectionError(file: string, section: string, program?: string): ObjectError {
  const near = similarSectionNames(section);
  return new ObjectError(file, `${program ? `program ${program}: ` : ''}section "${section}" is not a program section name libbpf knows, so the program has no type` +
    ` (libbpf: "missing BPF prog type, check ELF section name"): ${near.length ? `did you mean ${near.map((n) => `"${n}"`).join(' or ')}? ` : ''}` +
    'name the section as libbpf does (socket, tc, xdp, kprobe/FN, tracepoint/CAT/NAME, fentry/FN, cgroup/connect4, ...: the full table is SECTION_DEFS)' +
    `${program ? `, set the program's type before load (obj.programs.get('${program}').type = ProgType.…), or leave it out (autoload = false)` : ''}`, { section });
}
