// Attaching programs: to a cgroup (sock_ops, cgroup_skb, cgroup/sock...) and to a SOCKMAP/SOCKHASH
// (sk_msg, sk_skb). bpf_link first; BPF_PROG_ATTACH when the kernel has no link for it.
import { BpfError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import type { BpfProgram } from '../programs/program.js';
import { AttachFlag, AttachType, enumName, ProgType } from '../sys/constants.js';
import { linkCreateTry, progAttach } from '../sys/commands.js';
import { bpfError } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { libc } from '../sys/libc.js';
import { BpfLink, openDir, type AttachMethod } from './link.js';
import { hasSockmapLinks, isLinkUnsupported } from './probe.js';

export interface AttachOptions {
  /** Attach type; by default derived from the program (sock_ops → CGROUP_SOCK_OPS, sk_msg → SK_MSG_VERDICT). */
  attachType?: number;
  /** Force one method instead of link-with-fallback (tests, and kernels with broken links). */
  method?: AttachMethod;
}

function cgroupAttachType(prog: BpfProgram): number {
  if (prog.type === ProgType.SOCK_OPS) return AttachType.CGROUP_SOCK_OPS;
  if (prog.expectedAttachType) return prog.expectedAttachType;
  throw new BpfError('BPF_LINK_CREATE', 0, 'EINVAL', `${prog.what}: no cgroup attach type known for it`, { hint: 'pass attachType' });
}

function mapAttachType(prog: BpfProgram): number {
  if (prog.type === ProgType.SK_MSG) return AttachType.SK_MSG_VERDICT;
  if (prog.expectedAttachType) return prog.expectedAttachType;
  throw new BpfError('BPF_LINK_CREATE', 0, 'EINVAL', `${prog.what}: no sockmap attach type known for it`, { hint: 'pass attachType (e.g. SK_SKB_STREAM_VERDICT)' });
}

/** A private copy of an fd, so the attachment does not depend on the caller keeping theirs open. */
function dup(fd: Fd): Fd {
  const raw = libc().dupAtLeast(fd.value, 3);
  if (raw < 0) throw bpfError('dup', libc().errno(), 'a program or map fd');
  return new Fd(raw);
}

/** Attach `prog` to the cgroup v2 directory `dir`. */
export function attachCgroup(prog: BpfProgram, dir: string, opts: AttachOptions = {}): BpfLink {
  const attachType = opts.attachType ?? cgroupAttachType(prog);
  const description = `${prog.what} to cgroup ${dir} (${enumName(AttachType, attachType)})`;
  const cgroup = openDir(dir);
  try {
    if (opts.method !== 'prog_attach') {
      const r = linkCreateTry(prog.fd, cgroup, attachType, description);
      if (r.fd) {
        cgroup.close();
        return BpfLink.fromLinkFd(r.fd, attachType, description);
      }
      if (opts.method === 'link' || !isLinkUnsupported(r.errno)) throw bpfError('BPF_LINK_CREATE', r.errno, description);
    }
    // ALLOW_MULTI: never replace someone else's program on this cgroup.
    progAttach(cgroup, prog.fd, attachType, AttachFlag.ALLOW_MULTI, description);
    return BpfLink.fromProgAttach(cgroup, dup(prog.fd), attachType, description);
  } catch (e) {
    if (!cgroup.closed) cgroup.close();
    throw e;
  }
}

/** Attach `prog` (sk_msg, sk_skb) to a SOCKMAP or SOCKHASH. */
export function attachToMap(prog: BpfProgram, map: BpfMap, opts: AttachOptions = {}): BpfLink {
  const attachType = opts.attachType ?? mapAttachType(prog);
  const description = `${prog.what} to map ${map.name} (${enumName(AttachType, attachType)})`;
  const method = opts.method ?? (hasSockmapLinks() ? 'link' : 'prog_attach');
  if (method === 'link') {
    const r = linkCreateTry(prog.fd, map.fd, attachType, description);
    if (r.fd) return BpfLink.fromLinkFd(r.fd, attachType, description);
    throw bpfError('BPF_LINK_CREATE', r.errno, description, isLinkUnsupported(r.errno) ? { hint: 'this kernel has no sockmap links (6.10+): use method "prog_attach"' } : {});
  }
  progAttach(map.fd, prog.fd, attachType, 0, description);
  return BpfLink.fromProgAttach(dup(map.fd), dup(prog.fd), attachType, description);
}
