// rtnetlink as data: the message headers (struct nlmsghdr, ifinfomsg, tcmsg, nlattr, nlmsgerr) as
// layouts, the numbers of the messages and attributes used to attach XDP and tc programs, and the pure
// encoding of messages with their attributes (TLVs, 4-byte aligned) and their decoding. No syscalls:
// sys/netlink.ts sends what is built here.
import { decode, encodeInto, field as f, layout, type Layout, type Values } from './layout.js';

export const NLMSGHDR = layout('struct nlmsghdr', { struct: 'nlmsghdr' }, [
  f('nlmsg_len', 0, 'u32'),
  f('nlmsg_type', 4, 'u16'),
  f('nlmsg_flags', 6, 'u16'),
  f('nlmsg_seq', 8, 'u32'),
  f('nlmsg_pid', 12, 'u32'),
]);

export const IFINFOMSG = layout('struct ifinfomsg', { struct: 'ifinfomsg' }, [
  f('ifi_family', 0, 'u8'),
  f('ifi_type', 2, 'u16'),
  f('ifi_index', 4, 's32'),
  f('ifi_flags', 8, 'u32'),
  f('ifi_change', 12, 'u32'),
]);

export const TCMSG = layout('struct tcmsg', { struct: 'tcmsg' }, [
  f('tcm_family', 0, 'u8'),
  f('tcm_ifindex', 4, 's32'),
  f('tcm_handle', 8, 'u32'),
  f('tcm_parent', 12, 'u32'),
  f('tcm_info', 16, 'u32'),
]);

export const NLATTR = layout('struct nlattr', { struct: 'nlattr' }, [
  f('nla_len', 0, 'u16'),
  f('nla_type', 2, 'u16'),
]);

export const NLMSGERR = layout('struct nlmsgerr', { struct: 'nlmsgerr' }, [
  f('error', 0, 's32'),
]);

export const SOCKADDR_NL = layout('struct sockaddr_nl', { struct: 'sockaddr_nl' }, [
  f('nl_family', 0, 'u16'),
  f('nl_pid', 4, 'u32'),
  f('nl_groups', 8, 'u32'),
]);

export const NETLINK_ROUTE = 0;
/** Socket options at SOL_NETLINK. */
export const NetlinkOption = { CAP_ACK: 10, EXT_ACK: 11 } as const;

export const NlmFlag = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8,
  /** GET requests. */
  ROOT: 0x100, MATCH: 0x200, DUMP: 0x300,
  /** NEW requests. */
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400,
  /** On NLMSG_ERROR: extended-ack attributes follow. */
  ACK_TLVS: 0x200,
} as const;

export const NlmsgType = { NOOP: 1, ERROR: 2, DONE: 3 } as const;
export const NlmsgErrAttr = { MSG: 1, OFFS: 2 } as const;

export const Rtm = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWQDISC: 36, DELQDISC: 37, GETQDISC: 38,
  NEWTFILTER: 44, DELTFILTER: 45, GETTFILTER: 46,
} as const;

/** IFLA_* attributes of a link message, and IFLA_XDP's nested ones. */
export const Ifla = { IFNAME: 3, XDP: 43 } as const;
export const IflaXdp = { FD: 1, ATTACHED: 2, FLAGS: 3, PROG_ID: 4, DRV_PROG_ID: 5, SKB_PROG_ID: 6, HW_PROG_ID: 7, EXPECTED_FD: 8 } as const;

/** TCA_* attributes of qdisc/filter messages, and cls_bpf's nested options. */
export const Tca = { KIND: 1, OPTIONS: 2 } as const;
export const TcaBpf = { CLASSID: 3, FD: 6, NAME: 7, FLAGS: 8, FLAGS_GEN: 9, TAG: 10, ID: 11 } as const;
/** TCA_BPF_FLAG_ACT_DIRECT: the program's return value is the action (no separate tc action). */
export const TCA_BPF_FLAG_ACT_DIRECT = 1;

/** tc handles: the clsact qdisc and its two hook points. */
export const TcHandle = { CLSACT: 0xfffffff1, MIN_INGRESS: 0xfff2, MIN_EGRESS: 0xfff3 } as const;
export const tcHandle = (major: number, minor: number): number => ((major & 0xffff0000) | (minor & 0xffff)) >>> 0;
/** ETH_P_ALL in network byte order, as tcm_info's protocol half wants it. */
export const ETH_P_ALL_BE = 0x0300;

/** nla_type bits that are flags, not the type. */
const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;

const align4 = (n: number) => (n + 3) & ~3;

/** One attribute: header, payload, padding. */
export function nlAttr(type: number, payload: Buffer): Buffer {
  const len = NLATTR.size + payload.length;
  const out = Buffer.alloc(align4(len));
  encodeInto(NLATTR, { nla_len: len, nla_type: type }, out, noPointers);
  payload.copy(out, NLATTR.size);
  return out;
}

export const nlU32 = (type: number, v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return nlAttr(type, b); };
export const nlS32 = (type: number, v: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32LE(v | 0); return nlAttr(type, b); };
export const nlString = (type: number, s: string): Buffer => nlAttr(type, Buffer.from(s + '\0', 'utf8'));
export const nlNested = (type: number, children: Buffer[]): Buffer => nlAttr(type | NLA_F_NESTED, Buffer.concat(children));

function noPointers(): bigint {
  throw new Error('netlink headers have no pointer fields');
}

/** A whole message: nlmsghdr, the family header (ifinfomsg, tcmsg) and the attributes. */
export function nlMessage<L extends Layout>(type: number, flags: number, seq: number, header: L, values: Values<L>, attrs: Buffer[] = []): Buffer {
  const head = Buffer.alloc(align4(header.size));
  encodeInto(header, values, head, noPointers);
  const body = Buffer.concat([head, ...attrs]);
  const msg = Buffer.alloc(NLMSGHDR.size + body.length);
  encodeInto(NLMSGHDR, { nlmsg_len: msg.length, nlmsg_type: type, nlmsg_flags: flags, nlmsg_seq: seq }, msg, noPointers);
  body.copy(msg, NLMSGHDR.size);
  return msg;
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** What follows the nlmsghdr. */
  payload: Buffer;
}

/** The messages in one datagram the kernel sent. */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at + NLMSGHDR.size <= buf.length) {
    const h = decode(NLMSGHDR, buf.subarray(at));
    if (h.nlmsg_len < NLMSGHDR.size || at + h.nlmsg_len > buf.length) break;
    out.push({ type: h.nlmsg_type, flags: h.nlmsg_flags, seq: h.nlmsg_seq, payload: buf.subarray(at + NLMSGHDR.size, at + h.nlmsg_len) });
    at += align4(h.nlmsg_len);
  }
  return out;
}

/** The attributes in `buf` from `offset` on, by type (flag bits removed; the last of a type wins). */
export function parseAttrs(buf: Buffer, offset = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = offset;
  while (at + NLATTR.size <= buf.length) {
    const a = decode(NLATTR, buf.subarray(at));
    if (a.nla_len < NLATTR.size || at + a.nla_len > buf.length) break;
    out.set(a.nla_type & NLA_TYPE_MASK, buf.subarray(at + NLATTR.size, at + a.nla_len));
    at += align4(a.nla_len);
  }
  return out;
}

/** An NLMSG_ERROR message: errno (0 for an ACK) and the kernel's extended-ack text, when it gave one. */
export function parseError(m: NlMessage): { errno: number; message?: string } {
  const error = m.payload.readInt32LE(0);
  let message: string | undefined;
  if (m.flags & NlmFlag.ACK_TLVS) {
    // After the error: the request's header (the whole request unless NETLINK_CAP_ACK), then TLVs.
    const requestLen = m.payload.length >= 4 + NLMSGHDR.size ? m.payload.readUInt32LE(4) : 0;
    const tlvAt = 4 + (m.flags & 0x100 /* NLM_F_CAPPED */ ? NLMSGHDR.size : align4(requestLen));
    const text = parseAttrs(m.payload, tlvAt).get(NlmsgErrAttr.MSG);
    if (text) message = text.toString('utf8').replace(/\0.*$/s, '');
  }
  return { errno: -error, message };
}

/** The header of a message's payload decoded with `header` (ifinfomsg, tcmsg), and its attributes. */
export function parsePayload<L extends Layout>(m: NlMessage, header: L): { header: ReturnType<typeof decode<L>>; attrs: Map<number, Buffer> } {
  return { header: decode(header, m.payload), attrs: parseAttrs(m.payload, align4(header.size)) };
}
