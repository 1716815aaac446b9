// XDP on a network interface: an XdpLink (BPF_LINK_CREATE with BPF_XDP, 5.9+), or, on older kernels,
// the netlink way (RTM_SETLINK with IFLA_XDP, what `ip link set dev X xdp` does), which makes no
// kernel object: XdpNetlinkAttachment. Both come off with close() (the link when unpinned); the
// netlink one only removes the program if it is still ours, and forget() leaves it attached.
import { UsageError } from '../errors.js';
import { hasXdpLinks } from '../features/probe.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { netlinkError, type RtNetlink } from '../sys/netlink.js';
import { XdpAttached, XdpFlag } from '../uapi/attach.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { IFINFOMSG, Ifla, IflaXdp, NlmFlag, Rtm, nlMessage, nlNested, nlS32, nlU32, parseAttrs, parsePayload } from '../uapi/netlink.js';
import { inHeldNetns, resolveInterface, type InterfaceOptions, type ResolvedInterface } from './interface.js';
import { NetlinkAttachment, withNetlink } from './netlink-attachment.js';
import { XdpLink } from './link.js';
import type { AttachableProgram } from './types.js';

export type XdpMode = 'generic' | 'driver' | 'offload';

const MODE_FLAG: Record<XdpMode, number> = { generic: XdpFlag.SKB_MODE, driver: XdpFlag.DRV_MODE, offload: XdpFlag.HW_MODE };

export interface XdpOptions extends InterfaceOptions {
  /** generic (skb, any device), driver (native), offload (the NIC). Default: driver where the device has it, else generic. */
  mode?: XdpMode;
  /** 'link' or 'netlink' to force one way; by default a link where the kernel has XDP links. */
  method?: 'link' | 'netlink';
  /** netlink only: replace a program already there (a link never replaces one). */
  replace?: boolean;
}

/** What is attached to an interface's XDP hook (netlink RTM_GETLINK). */
export interface XdpState {
  mode: 'none' | XdpMode | 'multi';
  /** The program id (0 when none; with several modes, the driver one). */
  progId: number;
  genericProgId: number;
  driverProgId: number;
  offloadProgId: number;
}

const ATTACHED_MODE: Record<number, XdpState['mode']> = { [XdpAttached.NONE]: 'none', [XdpAttached.DRV]: 'driver', [XdpAttached.SKB]: 'generic', [XdpAttached.HW]: 'offload', [XdpAttached.MULTI]: 'multi' };

function queryXdp(nl: RtNetlink, ifindex: number, label: string): XdpState {
  const replies = nl.request((seq) => nlMessage(Rtm.GETLINK, NlmFlag.REQUEST, seq, IFINFOMSG, { ifi_index: ifindex }), 'RTM_GETLINK', label);
  const link = replies.find((m) => m.type === Rtm.NEWLINK);
  const xdp = link ? parsePayload(link, IFINFOMSG).attrs.get(Ifla.XDP) : undefined;
  const a = xdp ? parseAttrs(xdp) : new Map<number, Buffer>();
  const u32 = (t: number) => a.get(t)?.readUInt32LE(0) ?? 0;
  const attached = a.get(IflaXdp.ATTACHED)?.readUInt8(0) ?? XdpAttached.NONE;
  const state: XdpState = { mode: ATTACHED_MODE[attached] ?? 'none', progId: u32(IflaXdp.PROG_ID), genericProgId: u32(IflaXdp.SKB_PROG_ID), driverProgId: u32(IflaXdp.DRV_PROG_ID), offloadProgId: u32(IflaXdp.HW_PROG_ID) };
  // With one mode the kernel reports only PROG_ID: fill in that mode's own id too.
  if (state.mode === 'generic') state.genericProgId ||= state.progId;
  if (state.mode === 'driver') state.driverProgId ||= state.progId;
  if (state.mode === 'offload') state.offloadProgId ||= state.progId;
  return state;
}

/** What XDP program (if any) interface `iface` runs, and in which mode. */
export function xdpState(iface: string | number, opts: InterfaceOptions = {}): XdpState {
  const target = resolveInterface(iface, opts);
  try {
    return withNetlink(target, (nl) => queryXdp(nl, target.ifindex, target.label));
  } finally {
    target.netns?.close();
  }
}

function setXdp(nl: RtNetlink, ifindex: number, fd: number, flags: number, label: string, what: string, mode?: XdpMode): void {
  const attrs = [nlS32(IflaXdp.FD, fd), ...(flags ? [nlU32(IflaXdp.FLAGS, flags)] : [])];
  nl.request((seq) => nlMessage(Rtm.SETLINK, NlmFlag.REQUEST, seq, IFINFOMSG, { ifi_index: ifindex }, [nlNested(Ifla.XDP, attrs)]), 'RTM_SETLINK (IFLA_XDP)', what,
    (errno, says) => netlinkError('RTM_SETLINK (IFLA_XDP)', errno, what, says, xdpHint(errno, label, mode)));
}

function xdpHint(errno: number, label: string, mode?: XdpMode): string | undefined {
  if (mode === 'offload' && (errno === Errno.EINVAL || errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP)) {
    return `offload needs a NIC that runs XDP in hardware (e.g. Netronome) and the program loaded for that device; ${label} cannot: use mode "driver" or "generic"`;
  }
  switch (errno) {
    case Errno.EBUSY: case Errno.EEXIST: return `another XDP program is attached to ${label} (see \`ip link show\`; a link must be closed, a netlink one removed with \`ip link set dev IFACE xdp off\`)`;
    case Errno.EOPNOTSUPP: case Errno.ENOTSUPP: return `the device or its driver does not support this XDP mode: use mode "generic" (offload needs a NIC that offloads XDP and a program loaded for its ifindex)`;
    case Errno.EINVAL: return 'the program must be an XDP program for an interface (not xdp/devmap or xdp/cpumap), and a frags program needs a device that supports multi-buffer XDP';
    case 34 /* ERANGE */: return 'the device MTU is too large for XDP in driver mode: lower it or use mode "generic"';
    default: return undefined;
  }
}

function checkXdpProgram(prog: AttachableProgram): void {
  if (prog.type !== ProgType.XDP) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not an XDP program (SEC("xdp"))`);
  if (prog.expectedAttachType === AttachType.XDP_DEVMAP || prog.expectedAttachType === AttachType.XDP_CPUMAP) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} is an XDP program for a ${prog.expectedAttachType === AttachType.XDP_DEVMAP ? 'devmap' : 'cpumap'} entry, not for an interface`, { hint: 'put it in SEC("xdp")' });
  }
}

/**
 * Attach an XDP program to network interface `iface` (a name or an ifindex, in `netns` if given):
 * an XdpLink where the kernel has XDP links (5.9+), else the netlink way.
 */
export function attachXdp(prog: AttachableProgram, iface: string | number, opts: XdpOptions = {}): XdpLink | XdpNetlinkAttachment {
  checkXdpProgram(prog);
  const target = resolveInterface(iface, opts);
  const flags = opts.mode ? MODE_FLAG[opts.mode] : 0;
  const description = `${prog.what} to XDP of ${target.label}${opts.mode ? ` (${opts.mode} mode)` : ''}`;
  try {
    const method = opts.method ?? (hasXdpLinks() ? 'link' : 'netlink');
    if (method === 'link') {
      if (opts.replace) throw new UsageError('BAD_ARGUMENT', `${description}: an XDP link never replaces another program`, { hint: 'close the other link first, or use method "netlink" with replace' });
      const r = inHeldNetns(target.netns, () => linkCreateTry({ prog_fd: prog.fd.value, target_ifindex: target.ifindex, attach_type: AttachType.XDP, flags }, description));
      if (!r.fd) throw bpfError('BPF_LINK_CREATE', r.errno, description, { hint: xdpHint(r.errno, target.label, opts.mode) ?? (hasXdpLinks() ? undefined : 'this kernel has no XDP links (5.9+): use method "netlink"') });
      target.netns?.close();
      return new XdpLink('xdp', r.fd, AttachType.XDP, description);
    }
    return withNetlink(target, (nl) => {
      setXdp(nl, target.ifindex, prog.fd.value, flags | (opts.replace ? 0 : XdpFlag.UPDATE_IF_NOEXIST), target.label, description, opts.mode);
      const state = queryXdp(nl, target.ifindex, target.label);
      const mode = opts.mode ?? (state.mode === 'generic' || state.mode === 'driver' || state.mode === 'offload' ? state.mode : 'driver');
      return new XdpNetlinkAttachment(prog, target, mode, `${description} (netlink)`);
    });
  } catch (e) {
    target.netns?.close();
    throw e;
  }
}

/** An XDP program attached over netlink (kernels without XDP links): no kernel object of its own. */
export class XdpNetlinkAttachment extends NetlinkAttachment {
  readonly kind = 'xdp' as const;
  /** The mode it runs in. */
  readonly mode: XdpMode;

  /** attachXdp() makes these. */
  constructor(prog: AttachableProgram, target: ResolvedInterface, mode: XdpMode, description: string) {
    super(prog, target, description, 'XDP links (5.9+)');
    this.mode = mode;
  }

  /** What the interface runs now. */
  state(): XdpState {
    return withNetlink(this.target, (nl) => queryXdp(nl, this.target.ifindex, this.target.label));
  }

  protected currentProgramId(nl: RtNetlink): number {
    const s = queryXdp(nl, this.target.ifindex, this.target.label);
    return this.mode === 'generic' ? s.genericProgId : this.mode === 'driver' ? s.driverProgId : s.offloadProgId;
  }

  protected replaceWith(nl: RtNetlink, program: AttachableProgram): void {
    setXdp(nl, this.target.ifindex, program.fd.value, MODE_FLAG[this.mode], this.target.label, `${this.description}: replacing it with ${program.what}`, this.mode);
  }

  protected remove(nl: RtNetlink): void {
    setXdp(nl, this.target.ifindex, -1, MODE_FLAG[this.mode], this.target.label, `${this.description}: detaching`, this.mode);
  }

  protected checkProgram(program: AttachableProgram): void {
    checkXdpProgram(program);
  }
}
