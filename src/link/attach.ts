// Attaching programs. bpf_link first; BPF_PROG_ATTACH where the kernel has no link for the target.
// Each function returns the attachment's own type (link.ts, prog-attach.ts), so callers see which
// one they got and what close() will do.
import { openSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { linkCreateTry, progAttach, rawTracepointOpen } from '../sys/commands.js';
import { bpfError } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { AttachFlag, AttachType, ProgType } from '../uapi/enums.js';
import { checkCgroupDir } from './cgroup.js';
import { CgroupLink, describeAttachment, RawTracepointLink, SockmapLink, type BpfLink } from './link.js';
import { hasSockmapLinks, isLinkUnsupported } from '../features/probe.js';
import { ProgAttachment } from './prog-attach.js';
import type { AttachableMap, AttachableProgram, AttachMethod } from './types.js';

/** Any attachment: a kernel bpf_link of some kind, or a BPF_PROG_ATTACH one (tell them apart by `method`). */
export type Attachment = BpfLink | ProgAttachment;

export interface AttachOptions {
  /** Attach type; by default derived from the program (sock_ops → CGROUP_SOCK_OPS, sk_msg → SK_MSG_VERDICT). */
  attachType?: number;
  /** Force one method instead of link-with-fallback (tests, and kernels with broken links). */
  method?: AttachMethod;
}

function attachTypeFor(prog: AttachableProgram, target: string, defaults: Partial<Record<number, number>>, example: string): number {
  const t = defaults[prog.type] ?? prog.expectedAttachType;
  if (t) return t;
  throw new UsageError('BAD_ARGUMENT', `${prog.what}: no ${target} attach type is known for this program type`, { hint: `pass { attachType } (e.g. AttachType.${example})` });
}

/** Open a cgroup v2 directory (checked first) as an fd for BPF commands. */
export function openCgroup(dir: string): { fd: Fd; path: string } {
  const path = checkCgroupDir(dir);
  return { fd: new Fd(openSync(path, 'r')), path };
}

/** Attach `prog` to the cgroup v2 directory `dir`: a CgroupLink where the kernel has one (5.7+), else PROG_ATTACH (ALLOW_MULTI). */
export function attachCgroup(prog: AttachableProgram, dir: string, opts: AttachOptions = {}): CgroupLink | ProgAttachment {
  const attachType = opts.attachType ?? attachTypeFor(prog, 'cgroup', { [ProgType.SOCK_OPS]: AttachType.CGROUP_SOCK_OPS }, 'CGROUP_INET_INGRESS');
  const cgroup = openCgroup(dir);
  const description = describeAttachment(prog, `cgroup ${cgroup.path}`, attachType);
  try {
    if (opts.method !== 'prog_attach') {
      const r = linkCreateTry({ prog_fd: prog.fd.value, target_fd: cgroup.fd.value, attach_type: attachType }, description);
      if (r.fd) {
        cgroup.fd.close();
        return new CgroupLink('cgroup', r.fd, attachType, description);
      }
      if (opts.method === 'link' || !isLinkUnsupported(r.errno)) throw bpfError('BPF_LINK_CREATE', r.errno, description);
    }
    // ALLOW_MULTI: never replace someone else's program on this cgroup.
    progAttach(cgroup.fd, prog.fd, attachType, AttachFlag.ALLOW_MULTI, description);
    return new ProgAttachment('cgroup', cgroup.fd, prog.fd.dup(), attachType, description);
  } catch (e) {
    cgroup.fd.close();
    throw e;
  }
}

/** Attach `prog` (sk_msg, sk_skb) to a SOCKMAP or SOCKHASH: a SockmapLink on 6.10+, else PROG_ATTACH. */
export function attachToMap(prog: AttachableProgram, map: AttachableMap, opts: AttachOptions = {}): SockmapLink | ProgAttachment {
  const attachType = opts.attachType ?? attachTypeFor(prog, 'sockmap', { [ProgType.SK_MSG]: AttachType.SK_MSG_VERDICT }, 'SK_SKB_STREAM_VERDICT');
  const description = describeAttachment(prog, `map ${map.name}`, attachType);
  const method = opts.method ?? (hasSockmapLinks() ? 'link' : 'prog_attach');
  if (method === 'link') {
    const r = linkCreateTry({ prog_fd: prog.fd.value, target_fd: map.fd.value, attach_type: attachType }, description);
    if (r.fd) return new SockmapLink('sockmap', r.fd, attachType, description);
    throw bpfError('BPF_LINK_CREATE', r.errno, description, isLinkUnsupported(r.errno) ? { hint: 'this kernel has no sockmap links (6.10+): use method "prog_attach"' } : {});
  }
  progAttach(map.fd, prog.fd, attachType, 0, description);
  return new ProgAttachment('sockmap', map.fd.dup(), prog.fd.dup(), attachType, description);
}

/** Attach a raw_tp program (or tp_btf, with no name: its tracepoint is in the program) to a raw tracepoint. */
export function attachRawTracepoint(prog: AttachableProgram, name?: string): RawTracepointLink {
  if (prog.type !== ProgType.RAW_TRACEPOINT && prog.type !== ProgType.RAW_TRACEPOINT_WRITABLE && prog.type !== ProgType.TRACING) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a raw tracepoint program (SEC("raw_tp/…") or SEC("tp_btf/…"))`);
  }
  const description = `${prog.what} to raw tracepoint ${name ?? '(from its BTF)'}`;
  return new RawTracepointLink('raw_tracepoint', rawTracepointOpen(name, prog.fd, description), AttachType.TRACE_RAW_TP, description);
}

/**
 * The attachment of `prog` on cgroup `dir`, made earlier (perhaps by another process) with
 * BPF_PROG_ATTACH: to detach it. Nothing is checked until detach().
 */
export function cgroupAttachment(prog: AttachableProgram, dir: string, attachType: number): ProgAttachment {
  const cgroup = openCgroup(dir);
  return new ProgAttachment('cgroup', cgroup.fd, prog.fd.dup(), attachType, describeAttachment(prog, `cgroup ${cgroup.path}`, attachType));
}

/** The BPF_PROG_ATTACH attachment of `prog` on a sockmap, made earlier: to detach it. */
export function mapAttachment(prog: AttachableProgram, map: AttachableMap, attachType: number): ProgAttachment {
  return new ProgAttachment('sockmap', map.fd.dup(), prog.fd.dup(), attachType, describeAttachment(prog, `map ${map.name}`, attachType));
}
