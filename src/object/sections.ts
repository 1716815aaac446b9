// The one section-name table: which program type and expected attach type a SEC("...") name means,
// following libbpf's naming. `exact` entries match the whole name; the others match "prefix" alone
// or "prefix/what-to-attach-to" (attachTo = the part after the slash).
import { ObjectError } from '../errors.js';
import { AttachType, ProgType } from '../uapi/enums.js';

export interface SectionDef {
  prefix: string;
  type: number;
  expectedAttachType: number;
  /** The name must be exactly `prefix` (no "/..." part). */
  exact?: boolean;
}

const def = (prefix: string, type: number, expectedAttachType = 0, exact = false): SectionDef => ({ prefix, type, expectedAttachType, exact });

/** Longer prefixes first where one is a prefix of another ("sk_skb/stream_parser" before "sk_skb"). */
export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', ProgType.SOCKET_FILTER, 0, true),
  def('sockops', ProgType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS, true),
  def('sk_msg', ProgType.SK_MSG, AttachType.SK_MSG_VERDICT, true),
  def('sk_skb/stream_parser', ProgType.SK_SKB, AttachType.SK_SKB_STREAM_PARSER, true),
  def('sk_skb/stream_verdict', ProgType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT, true),
  def('sk_skb/verdict', ProgType.SK_SKB, AttachType.SK_SKB_VERDICT, true),
  def('sk_skb', ProgType.SK_SKB),
  def('sk_lookup', ProgType.SK_LOOKUP, AttachType.SK_LOOKUP, true),
  def('sk_reuseport', ProgType.SK_REUSEPORT, AttachType.SK_REUSEPORT_SELECT, true),
  def('cgroup_skb/ingress', ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, true),
  def('cgroup_skb/egress', ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, true),
  def('cgroup/skb', ProgType.CGROUP_SKB, 0, true),
  def('cgroup/sock_create', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, true),
  def('cgroup/sock_release', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_RELEASE, true),
  def('cgroup/sock', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, true),
  def('cgroup/post_bind4', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, true),
  def('cgroup/post_bind6', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET6_POST_BIND, true),
  def('cgroup/bind4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, true),
  def('cgroup/bind6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND, true),
  def('cgroup/connect4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, true),
  def('cgroup/connect6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, true),
  def('cgroup/sendmsg4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG, true),
  def('cgroup/sendmsg6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG, true),
  def('cgroup/recvmsg4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_RECVMSG, true),
  def('cgroup/recvmsg6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_RECVMSG, true),
  def('cgroup/getpeername4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETPEERNAME, true),
  def('cgroup/getpeername6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETPEERNAME, true),
  def('cgroup/getsockname4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETSOCKNAME, true),
  def('cgroup/getsockname6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETSOCKNAME, true),
  def('cgroup/getsockopt', ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT, true),
  def('cgroup/setsockopt', ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT, true),
  def('cgroup/sysctl', ProgType.CGROUP_SYSCTL, AttachType.CGROUP_SYSCTL, true),
  def('cgroup/dev', ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE, true),
  def('xdp', ProgType.XDP, AttachType.XDP),
  def('tc', ProgType.SCHED_CLS),
  def('classifier', ProgType.SCHED_CLS),
  def('action', ProgType.SCHED_ACT),
  def('kprobe', ProgType.KPROBE),
  def('kretprobe', ProgType.KPROBE),
  def('uprobe', ProgType.KPROBE),
  def('uretprobe', ProgType.KPROBE),
  def('tracepoint', ProgType.TRACEPOINT),
  def('tp', ProgType.TRACEPOINT),
  def('raw_tracepoint', ProgType.RAW_TRACEPOINT),
  def('raw_tp', ProgType.RAW_TRACEPOINT),
  def('tp_btf', ProgType.TRACING, AttachType.TRACE_RAW_TP),
  def('fentry', ProgType.TRACING, AttachType.TRACE_FENTRY),
  def('fexit', ProgType.TRACING, AttachType.TRACE_FEXIT),
  def('fmod_ret', ProgType.TRACING, AttachType.MODIFY_RETURN),
  def('lsm', ProgType.LSM, AttachType.LSM_MAC),
  def('perf_event', ProgType.PERF_EVENT, 0, true),
  def('flow_dissector', ProgType.FLOW_DISSECTOR, AttachType.FLOW_DISSECTOR, true),
  def('lwt_in', ProgType.LWT_IN, 0, true),
  def('lwt_out', ProgType.LWT_OUT, 0, true),
  def('lwt_xmit', ProgType.LWT_XMIT, 0, true),
  def('syscall', ProgType.SYSCALL, 0, true),
];

export interface ProgramKind {
  type: number;
  expectedAttachType: number;
  /** The part after "prefix/" ("" when there is none). */
  attachTo: string;
}

/** The program type a section name means, or undefined when no entry matches. */
export function lookupSection(name: string): ProgramKind | undefined {
  for (const d of SECTION_DEFS) {
    if (name === d.prefix) return { type: d.type, expectedAttachType: d.expectedAttachType, attachTo: '' };
    if (!d.exact && name.startsWith(d.prefix + '/')) {
      return { type: d.type, expectedAttachType: d.expectedAttachType, attachTo: name.slice(d.prefix.length + 1) };
    }
  }
  return undefined;
}

/** Like lookupSection, but an unknown name is an ObjectError listing what is known. */
export function programKindOf(file: string, section: string): ProgramKind {
  const kind = lookupSection(section);
  if (kind) return kind;
  const known = SECTION_DEFS.map((d) => (d.exact ? d.prefix : `${d.prefix}[/...]`)).join(', ');
  throw new ObjectError(file, `unknown program section name "${section}": use one of ${known}`, { section });
}
