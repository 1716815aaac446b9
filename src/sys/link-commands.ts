// bpf() commands of the attach kinds that sys/commands.ts does not have: BPF_ITER_CREATE (an
// iterator instance to read) and BPF_PROG_QUERY of an interface's tcx/netkit hooks (by ifindex, with
// link ids and the revision), in the same style: attr from its layout, call through the chokepoint.
import * as A from '../uapi/attr.js';
import { Cmd } from '../uapi/enums.js';
import { Attr } from './attr.js';
import { bpfError, Errno } from './errno.js';
import type { Fd } from './fd.js';
import { bpfCall, bpfTry, cmdName } from './syscall.js';

/** BPF_ITER_CREATE: a new read()-able fd of the iterator behind `link` (the caller owns the raw fd). */
export function iterCreate(link: Fd, what: string): number {
  return bpfCall(Cmd.ITER_CREATE, new Attr(A.ITER_CREATE, { link_fd: link.value }), what);
}

export interface HookQuery {
  /** Program ids in run order. */
  programs: number[];
  /** Link ids in the same order (0 for a program attached without a link). */
  links: number[];
  /** Bumped by every change: pass it as expectedRevision to attach only if nothing changed meanwhile. */
  revision: bigint;
}

/** BPF_PROG_QUERY of a multi-program hook on an interface (tcx ingress/egress, netkit). */
export function queryInterfaceHook(ifindex: number, attachType: number, what: string): HookQuery {
  let capacity = 16;
  for (let round = 0; ; round++) {
    const progIds = Buffer.alloc(capacity * 4);
    const linkIds = Buffer.alloc(capacity * 4);
    const attr = new Attr(A.PROG_QUERY, { target_ifindex: ifindex, attach_type: attachType, prog_ids: progIds, link_ids: linkIds, prog_cnt: capacity });
    const r = bpfTry(Cmd.PROG_QUERY, attr, what);
    const count = attr.get('prog_cnt');
    if (r.ret < 0 && r.errno === Errno.ENOSPC && count > capacity && round < 4) { capacity = count; continue; }
    if (r.ret < 0) throw bpfError(cmdName(Cmd.PROG_QUERY), r.errno, what);
    const n = Math.min(count, capacity);
    const programs: number[] = [];
    const links: number[] = [];
    for (let i = 0; i < n; i++) { programs.push(progIds.readUInt32LE(i * 4)); links.push(linkIds.readUInt32LE(i * 4)); }
    return { programs, links, revision: attr.get('revision') };
  }
}
