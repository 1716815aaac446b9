// Attaching programs. bpf_link first; BPF_PROG_ATTACH where the kernel has no link for the target.
// Each function returns the attachment's own type (link.ts, prog-attach.ts), so callers see which
// one they got and what close() will do.
import { openSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { linkCreateTry, progAttach, rawTracepointOpen } from '../sys/commands.js';
import { openTracepoint } from '../sys/perf.js';
import { bpfError } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { AttachFlag, AttachType, enumName, ProgType } from '../uapi/enums.js';
import { checkCgroupDir } from './cgroup.js';
import { BpfLink, CgroupLink, describeAttachment, PerfEventLink, RawTracepointLink, SockmapLink } from './link.js';
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
 * Attach a program that names its kernel target by BTF (tp_btf, fentry/fexit/fmod_ret, lsm): a link
 * made with BPF_LINK_CREATE, or with BPF_RAW_TRACEPOINT_OPEN on kernels whose LINK_CREATE does not
 * take the program's attach type. The link's class follows the kernel's link type.
 */
export function attachTracing(prog: AttachableProgram): BpfLink {
  if (prog.type !== ProgType.TRACING && prog.type !== ProgType.LSM) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a BTF-attached program (SEC("tp_btf/…"), "fentry/…", "fexit/…", "lsm/…")`);
  }
  const description = `${prog.what} to its BTF target (${enumName(AttachType, prog.expectedAttachType)})`;
  const r = linkCreateTry({ prog_fd: prog.fd.value, attach_type: prog.expectedAttachType }, description);
  if (r.fd) return BpfLink.fromFd(r.fd, description);
  if (!isLinkUnsupported(r.errno)) throw bpfError('BPF_LINK_CREATE', r.errno, description);
  return BpfLink.fromFd(rawTracepointOpen(undefined, prog.fd, description), description);
}

/**
 * Attach a tracepoint program (SEC("tracepoint/CATEGORY/NAME")) to the classic tracepoint
 * category:name: a perf event (perf_event_open) with the program on it, held by a bpf_link
 * (BPF_LINK_CREATE with BPF_PERF_EVENT, 5.15+), so it can be pinned and outlive this process.
 */
export function attachTracepoint(prog: AttachableProgram, category: string, name: string): PerfEventLink {
  if (prog.type !== ProgType.TRACEPOINT) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a tracepoint program (SEC("tracepoint/CATEGORY/NAME"))`);
  const description = `${prog.what} to tracepoint ${category}:${name}`;
  const event = openTracepoint(category, name);
  try {
    const r = linkCreateTry({ prog_fd: prog.fd.value, target_fd: event.value, attach_type: AttachType.PERF_EVENT }, description);
    if (!r.fd) throw bpfError('BPF_LINK_CREATE', r.errno, description, isLinkUnsupported(r.errno) ? { hint: 'perf-event links need Linux 5.15 or newer' } : {});
    return new PerfEventLink('perf_event', r.fd, AttachType.PERF_EVENT, description);
  } finally {
    // The link holds its own reference to the perf event.
    event.close();
  }
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
