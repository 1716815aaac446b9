// Attaching programs. bpf_link first; BPF_PROG_ATTACH where the kernel has no link for the target.
// Each function returns the attachment's own type (link.ts, prog-attach.ts), so callers see which
// one they got and what close() will do.
import { openSync, readFileSync } from 'node:fs';
import { BpfError, UsageError } from '../errors.js';
import { linkCreateTry, progAttach, rawTracepointOpen } from '../sys/commands.js';
import { openTracepoint } from '../sys/perf.js';
import { bpfError, Errno, errnoName } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { AttachFlag, AttachType, enumName, ProgType } from '../uapi/enums.js';
import { checkCgroupDir } from './cgroup.js';
import { BpfLink, CgroupLink, describeAttachment, RawTracepointLink, SockmapLink, TracepointLink } from './link.js';
import { attachToPerfEvent, type PerfAttachOptions, type PerfEventAttachment } from './perf-event.js';
import { hasSockmapLinks, isLinkUnsupported } from '../features/probe.js';
import { ProgAttachment } from './prog-attach.js';
import type { SocketFilterAttachment } from './socket-filter.js';
import type { TcFilterAttachment } from './tc.js';
import type { AttachableMap, AttachableProgram, AttachMethod } from './types.js';
import type { XdpNetlinkAttachment } from './xdp.js';

/**
 * Any attachment: a kernel bpf_link of some kind, or what kernels without one for the target use —
 * BPF_PROG_ATTACH, a perf event held by ioctl, a netlink XDP program or tc filter, a socket option.
 * Tell them apart by `method` ('link', 'prog_attach', 'perf_ioctl', 'netlink', 'sockopt').
 */
export type Attachment = BpfLink | ProgAttachment | PerfEventAttachment | XdpNetlinkAttachment | TcFilterAttachment | SocketFilterAttachment;

export interface AttachOptions {
  /** Attach type; by default derived from the program (sock_ops → CGROUP_SOCK_OPS, sk_msg → SK_MSG_VERDICT). */
  attachType?: number;
  /** Force one method instead of link-with-fallback (tests, and kernels with broken links): 'link' or 'prog_attach'. */
  method?: AttachMethod;
}

function checkMethod(method: AttachMethod | undefined, what: string): void {
  if (method !== undefined && method !== 'link' && method !== 'prog_attach') {
    throw new UsageError('BAD_ARGUMENT', `${what}: method "${method}" does not apply here`, { hint: 'use "link" or "prog_attach"' });
  }
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
  checkMethod(opts.method, prog.what);
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
  checkMethod(opts.method, description);
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
  if (prog.type === ProgType.TRACING && prog.expectedAttachType === AttachType.TRACE_ITER) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} is an iterator: attach it with attachIter()`);
  }
  const description = `${prog.what} to its BTF target (${enumName(AttachType, prog.expectedAttachType)})`;
  if (prog.type === ProgType.LSM && prog.expectedAttachType === AttachType.LSM_MAC) checkBpfLsmActive(description);
  const r = linkCreateTry({ prog_fd: prog.fd.value, attach_type: prog.expectedAttachType }, description);
  if (r.fd) return BpfLink.fromFd(r.fd, description);
  if (!isLinkUnsupported(r.errno)) throw tracingError(r.errno, prog, description);
  try {
    return BpfLink.fromFd(rawTracepointOpen(undefined, prog.fd, description), description);
  } catch (e) {
    throw e instanceof BpfError ? tracingError(e.errno, prog, description, 'BPF_RAW_TRACEPOINT_OPEN') : e;
  }
}

/** A refused tracing attach, saying what the kernel lacks when it is the kind that is refused. */
function tracingError(errno: number, prog: AttachableProgram, description: string, op = 'BPF_LINK_CREATE'): BpfError {
  const trampoline = prog.type === ProgType.LSM || prog.expectedAttachType === AttachType.TRACE_FENTRY || prog.expectedAttachType === AttachType.TRACE_FEXIT || prog.expectedAttachType === AttachType.MODIFY_RETURN;
  if (trampoline && (errno === Errno.EPERM || errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP)) {
    return bpfError(op, errno, description, {
      hint: `this kernel refuses BPF trampolines (${errnoName(errno)} for a privileged process): fentry/fexit/fmod_ret/lsm need x86-64 or arm64 with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, no lockdown, and for lsm the BPF LSM active; use a kprobe, tracepoint or tp_btf program instead`,
    });
  }
  if (errno === Errno.EBUSY || errno === Errno.EEXIST) return bpfError(op, errno, description, { hint: 'this program is attached already (a tracing program attaches once; load it again for a second attachment)' });
  return bpfError(op, errno, description);
}

/** BPF LSM programs only run where "bpf" is among the active LSMs: say so rather than attach a program that never runs. */
function checkBpfLsmActive(description: string): void {
  let active: string;
  try {
    active = readFileSync('/sys/kernel/security/lsm', 'utf8');
  } catch {
    return; // securityfs not mounted: cannot tell, attach and let the hook speak for itself
  }
  if (!active.split(',').map((s) => s.trim()).includes('bpf')) {
    throw new UsageError('NOT_SUPPORTED', `${description}: the BPF LSM is not active on this kernel (active: ${active.trim()}), so the program would never run`, {
      hint: 'boot with "bpf" in the lsm= list (e.g. lsm=...,bpf) on a kernel with CONFIG_BPF_LSM',
    });
  }
}

/**
 * Attach a tracepoint program (SEC("tracepoint/CATEGORY/NAME")) to the classic tracepoint
 * category:name: a perf event (perf_event_open) with the program on it, held by a bpf_link
 * (BPF_LINK_CREATE with BPF_PERF_EVENT, 5.15+) that can be pinned and outlive this process; on older
 * kernels by PERF_EVENT_IOC_SET_BPF on the event, which this process then holds (PerfEventAttachment).
 */
export function attachTracepoint(prog: AttachableProgram, category: string, name: string, opts: PerfAttachOptions = {}): TracepointLink | PerfEventAttachment {
  if (prog.type !== ProgType.TRACEPOINT) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a tracepoint program (SEC("tracepoint/CATEGORY/NAME"))`);
  const description = `${prog.what} to tracepoint ${category}:${name}`;
  return attachToPerfEvent(prog, openTracepoint(category, name), 'tracepoint', description, TracepointLink, opts);
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
