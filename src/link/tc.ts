// tc programs (SCHED_CLS) on an interface's ingress or egress:
// - tcx links (BPF_LINK_CREATE with BPF_TCX_INGRESS/EGRESS, 6.6+): many programs per hook, in an
//   order you choose (first/last, before/after another program or link), changes checked against
//   the hook's revision;
// - on older kernels, what `tc` does: a clsact qdisc and a cls_bpf filter in direct-action mode,
//   over rtnetlink (TcFilterAttachment), ordered by priority (lower runs first).
// Both come off with close() (the link when unpinned; the filter only if it still runs our program).
import { UsageError } from '../errors.js';
import { hasTcxLinks } from '../features/probe.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { queryInterfaceHook, type HookQuery } from '../sys/link-commands.js';
import { netlinkError, type RtNetlink } from '../sys/netlink.js';
import { AttachFlag, AttachType, ProgType } from '../uapi/enums.js';
import {
  ETH_P_ALL_BE, NlmFlag, Rtm, Tca, TcaBpf, TCA_BPF_FLAG_ACT_DIRECT, TcHandle, TCMSG, nlMessage, nlNested, nlString, nlU32, parseAttrs, parsePayload, tcHandle,
} from '../uapi/netlink.js';
import { inHeldNetns, resolveInterface, type InterfaceOptions, type ResolvedInterface } from './interface.js';
import { NetlinkAttachment, withNetlink } from './netlink-attachment.js';
import { BpfLink, TcxLink } from './link.js';
import type { AttachableProgram } from './types.js';

export type TcDirection = 'ingress' | 'egress';

/** A program or tcx link to order against. */
export type TcAnchor = AttachableProgram | TcxLink;

export interface TcOptions extends InterfaceOptions {
  /** The hook. Default: from the program's section (tcx/ingress, tc/egress…). */
  direction?: TcDirection;
  /** 'tcx' or 'netlink' to force one way; by default tcx where the kernel has it (6.6+). */
  method?: 'tcx' | 'netlink';
  /** tcx: run before this program or link (with nothing else: first of all). */
  before?: TcAnchor;
  /** tcx: run after this program or link. */
  after?: TcAnchor;
  /** tcx: run first / last of the hook's programs. */
  first?: boolean;
  last?: boolean;
  /** tcx: only if the hook is still at this revision (see tcHook()); ESTALE otherwise. */
  expectedRevision?: bigint;
  /** netlink: the filter's priority (1–65535, lower runs first; default: the kernel picks one). */
  priority?: number;
  /** netlink: the filter's handle (default: the kernel picks one). */
  handle?: number;
}

const TCX_TYPE: Record<TcDirection, number> = { ingress: AttachType.TCX_INGRESS, egress: AttachType.TCX_EGRESS };
const CLSACT_MINOR: Record<TcDirection, number> = { ingress: TcHandle.MIN_INGRESS, egress: TcHandle.MIN_EGRESS };

function directionOf(prog: AttachableProgram, opts: TcOptions): TcDirection {
  if (opts.direction) return opts.direction;
  if (prog.expectedAttachType === AttachType.TCX_INGRESS) return 'ingress';
  if (prog.expectedAttachType === AttachType.TCX_EGRESS) return 'egress';
  throw new UsageError('BAD_ARGUMENT', `${prog.what}: say which hook, { direction: 'ingress' } or 'egress'`, { hint: 'or put the program in SEC("tcx/ingress") / SEC("tcx/egress")' });
}

/** The programs and links on an interface's tcx hook, in run order, and its revision (6.6+). */
export function tcHook(iface: string | number, direction: TcDirection, opts: InterfaceOptions = {}): HookQuery {
  const target = resolveInterface(iface, opts);
  try {
    return inHeldNetns(target.netns, () => queryInterfaceHook(target.ifindex, TCX_TYPE[direction], `tcx ${direction} of ${target.label}`));
  } finally {
    target.netns?.close();
  }
}

/**
 * Attach a tc program (SEC("tc"), "tcx/ingress", "classifier"…) to the ingress or egress of
 * interface `iface`: a TcxLink on 6.6+, else a clsact qdisc + cls_bpf direct-action filter.
 */
export function attachTc(prog: AttachableProgram, iface: string | number, opts: TcOptions = {}): TcxLink | TcFilterAttachment {
  if (prog.type !== ProgType.SCHED_CLS) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a tc program (SEC("tc"), "tcx/ingress", "tcx/egress", "classifier")`);
  const direction = directionOf(prog, opts);
  const ordering = [opts.before && 'before', opts.after && 'after', opts.first && 'first', opts.last && 'last'].filter(Boolean) as string[];
  if (ordering.length > 1) throw new UsageError('BAD_ARGUMENT', `${prog.what}: give one of before, after, first, last (got ${ordering.join(', ')})`);
  const target = resolveInterface(iface, opts);
  const description = `${prog.what} to tc ${direction} of ${target.label}`;
  try {
    const method = opts.method ?? (hasTcxLinks() ? 'tcx' : 'netlink');
    if (method === 'tcx') {
      if (opts.priority !== undefined || opts.handle !== undefined) throw new UsageError('BAD_ARGUMENT', `${description}: priority and handle are for netlink filters; tcx orders with before/after/first/last`);
      const link = attachTcx(prog, target, direction, opts, description);
      target.netns?.close();
      return link;
    }
    if (ordering.length || opts.expectedRevision !== undefined) {
      throw new UsageError('NOT_SUPPORTED', `${description}: ${ordering[0] ?? 'expectedRevision'} needs tcx links (6.6+)${hasTcxLinks() ? '' : ', which this kernel does not have'}`, {
        hint: 'with netlink filters, order by priority: lower runs first',
      });
    }
    return TcFilterAttachment.attach(prog, target, direction, opts, description);
  } catch (e) {
    target.netns?.close();
    throw e;
  }
}

function attachTcx(prog: AttachableProgram, target: ResolvedInterface, direction: TcDirection, opts: TcOptions, description: string): TcxLink {
  const anchor = opts.before ?? opts.after;
  let flags = opts.before || opts.first ? AttachFlag.BEFORE : opts.after || opts.last ? AttachFlag.AFTER : 0;
  if (anchor instanceof BpfLink) flags |= AttachFlag.LINK;
  const r = inHeldNetns(target.netns, () => linkCreateTry({
    prog_fd: prog.fd.value, target_ifindex: target.ifindex, attach_type: TCX_TYPE[direction], flags,
    'tcx.relative_fd': anchor?.fd.value, 'tcx.expected_revision': opts.expectedRevision,
  }, description));
  if (r.fd) return new TcxLink('tcx', r.fd, TCX_TYPE[direction], description);
  const hint = r.errno === Errno.EEXIST ? 'this program is already attached to that hook (a program runs at most once per hook)'
    : r.errno === Errno.ENOENT ? 'the program or link to order against is not attached to that hook'
    : r.errno === Errno.ESTALE ? `the hook changed since revision ${opts.expectedRevision}: query it again (tcHook) and retry`
    : r.errno === Errno.ERANGE ? 'the hook has the maximum number of programs (64)'
    : r.errno === Errno.EINVAL && !hasTcxLinks() ? 'this kernel has no tcx links (6.6+): use method "netlink"' : undefined;
  throw bpfError('BPF_LINK_CREATE', r.errno, description, { hint });
}

/** The tcmsg of our filter on `direction` (handle and priority 0: let the kernel pick, or any for dumps). */
function filterHeader(ifindex: number, direction: TcDirection, handle: number, priority: number) {
  return { tcm_ifindex: ifindex, tcm_handle: handle, tcm_parent: tcHandle(TcHandle.CLSACT, CLSACT_MINOR[direction]), tcm_info: ((priority << 16) | ETH_P_ALL_BE) >>> 0 };
}

function filterAttrs(prog: AttachableProgram): Buffer[] {
  return [nlString(Tca.KIND, 'bpf'), nlNested(Tca.OPTIONS, [nlU32(TcaBpf.FD, prog.fd.value), nlString(TcaBpf.NAME, prog.name), nlU32(TcaBpf.FLAGS, TCA_BPF_FLAG_ACT_DIRECT)])];
}

function tcHint(errno: number): string | undefined {
  if (errno === Errno.ENOENT || errno === Errno.EOPNOTSUPP) return 'the kernel lacks the clsact qdisc or the bpf classifier (CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF; modprobe sch_ingress cls_bpf)';
  if (errno === Errno.EEXIST) return 'a filter with that handle and priority exists: pick another priority or handle';
  if (errno === Errno.EINVAL) return 'the program must be a tc program (SCHED_CLS) and the priority 1–65535';
  return undefined;
}

/** A tc program attached as a cls_bpf filter on a clsact qdisc (kernels without tcx, or forced). */
export class TcFilterAttachment extends NetlinkAttachment {
  readonly kind = 'tc' as const;
  readonly direction: TcDirection;
  /** The filter's handle and priority, as the kernel chose them. */
  readonly handle: number;
  readonly priority: number;
  /** Whether this attachment created the clsact qdisc (then it removes it when the last filter goes). */
  readonly createdQdisc: boolean;

  private constructor(prog: AttachableProgram, target: ResolvedInterface, direction: TcDirection, handle: number, priority: number, createdQdisc: boolean, description: string) {
    super(prog, target, description, 'tcx links (6.6+)');
    this.direction = direction;
    this.handle = handle;
    this.priority = priority;
    this.createdQdisc = createdQdisc;
  }

  /** Create the clsact qdisc if missing, add the filter, and read back the handle and priority it got. */
  static attach(prog: AttachableProgram, target: ResolvedInterface, direction: TcDirection, opts: TcOptions, description: string): TcFilterAttachment {
    if (opts.priority !== undefined && (!Number.isInteger(opts.priority) || opts.priority < 1 || opts.priority > 0xffff)) throw new UsageError('BAD_ARGUMENT', `${description}: priority ${opts.priority} is not 1–65535`);
    return withNetlink(target, (nl) => {
      const createdQdisc = ensureClsact(nl, target, description);
      let replies;
      try {
        replies = nl.request((seq) => nlMessage(Rtm.NEWTFILTER, NlmFlag.REQUEST | NlmFlag.CREATE | NlmFlag.EXCL | NlmFlag.ECHO, seq, TCMSG,
          filterHeader(target.ifindex, direction, opts.handle ?? 0, opts.priority ?? 0), filterAttrs(prog)), 'RTM_NEWTFILTER', description,
        (errno, says) => netlinkError('RTM_NEWTFILTER', errno, `${description} (cls_bpf filter)`, says, tcHint(errno)));
      } catch (e) {
        if (createdQdisc) deleteClsact(nl, target);
        throw e;
      }
      const echo = replies.find((m) => m.type === Rtm.NEWTFILTER);
      const header = echo ? parsePayload(echo, TCMSG).header : undefined;
      const handle = header?.tcm_handle ?? opts.handle ?? 0;
      const priority = header ? header.tcm_info >>> 16 : opts.priority ?? 0;
      return new TcFilterAttachment(prog, target, direction, handle, priority, createdQdisc, `${description} (cls_bpf filter prio ${priority} handle 0x${handle.toString(16)})`);
    });
  }

  #header() {
    return filterHeader(this.ifindex, this.direction, this.handle, this.priority);
  }

  protected currentProgramId(nl: RtNetlink): number | undefined {
    let replies;
    try {
      replies = nl.request((seq) => nlMessage(Rtm.GETTFILTER, NlmFlag.REQUEST, seq, TCMSG, this.#header(), [nlString(Tca.KIND, 'bpf')]), 'RTM_GETTFILTER', this.description);
    } catch (e) {
      if ((e as { errno?: number }).errno === Errno.ENOENT || (e as { errno?: number }).errno === Errno.EINVAL) return undefined;
      throw e;
    }
    const m = replies.find((r) => r.type === Rtm.NEWTFILTER);
    const options = m ? parsePayload(m, TCMSG).attrs.get(Tca.OPTIONS) : undefined;
    return options ? parseAttrs(options).get(TcaBpf.ID)?.readUInt32LE(0) : undefined;
  }

  protected replaceWith(nl: RtNetlink, program: AttachableProgram): void {
    nl.request((seq) => nlMessage(Rtm.NEWTFILTER, NlmFlag.REQUEST | NlmFlag.REPLACE, seq, TCMSG, this.#header(), filterAttrs(program)), 'RTM_NEWTFILTER', `${this.description}: replacing it with ${program.what}`);
  }

  /** The filter, and the clsact qdisc too if we made it and it is now empty. */
  protected remove(nl: RtNetlink): void {
    nl.request((seq) => nlMessage(Rtm.DELTFILTER, NlmFlag.REQUEST, seq, TCMSG, this.#header(), [nlString(Tca.KIND, 'bpf')]), 'RTM_DELTFILTER', this.description);
    if (this.createdQdisc && clsactEmpty(nl, this.target)) deleteClsact(nl, this.target);
  }

  protected checkProgram(program: AttachableProgram): void {
    if (program.type !== ProgType.SCHED_CLS) throw new UsageError('BAD_ARGUMENT', `${program.what} is not a tc program`);
  }
}

const clsactHeader = (ifindex: number) => ({ tcm_ifindex: ifindex, tcm_handle: tcHandle(TcHandle.CLSACT, 0), tcm_parent: TcHandle.CLSACT });

/** Add the clsact qdisc; false when one is there already. */
function ensureClsact(nl: RtNetlink, target: ResolvedInterface, description: string): boolean {
  const exists = new Error('clsact exists');
  try {
    nl.request((seq) => nlMessage(Rtm.NEWQDISC, NlmFlag.REQUEST | NlmFlag.CREATE | NlmFlag.EXCL, seq, TCMSG, clsactHeader(target.ifindex), [nlString(Tca.KIND, 'clsact')]), 'RTM_NEWQDISC', `${description} (clsact qdisc)`,
      (errno, says) => (errno === Errno.EEXIST ? exists : netlinkError('RTM_NEWQDISC', errno, `clsact qdisc on ${target.label}`, says, tcHint(errno))));
    return true;
  } catch (e) {
    if (e === exists) return false;
    throw e;
  }
}

function clsactEmpty(nl: RtNetlink, target: ResolvedInterface): boolean {
  for (const direction of ['ingress', 'egress'] as const) {
    const filters = nl.request((seq) => nlMessage(Rtm.GETTFILTER, NlmFlag.REQUEST | NlmFlag.DUMP, seq, TCMSG, filterHeader(target.ifindex, direction, 0, 0)), 'RTM_GETTFILTER (dump)', `filters on ${target.label}`);
    if (filters.some((m) => m.type === Rtm.NEWTFILTER)) return false;
  }
  return true;
}

function deleteClsact(nl: RtNetlink, target: ResolvedInterface): void {
  try {
    nl.request((seq) => nlMessage(Rtm.DELQDISC, NlmFlag.REQUEST, seq, TCMSG, clsactHeader(target.ifindex), [nlString(Tca.KIND, 'clsact')]), 'RTM_DELQDISC', `clsact qdisc on ${target.label}`);
  } catch { /* gone already, or someone else's now: leave it */ }
}
