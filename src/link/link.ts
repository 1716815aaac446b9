// bpf_link attachments: a kernel object with an fd, one class per link kind. What the two ways of
// letting go mean:
// - close():  drop our fd. An unpinned link is then detached by the kernel (its last reference is
//             gone); a pinned link stays attached until its pin is removed.
// - detach(): BPF_LINK_DETACH — the program is detached now, even if the link is pinned elsewhere
//             (the pin then holds a defunct link, which bpftool shows without a target).
// The older BPF_PROG_ATTACH has no such object: see ProgAttachment (prog-attach.ts).
import { createReadStream, readSync, closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { BpfError, UsageError } from '../errors.js';
import { linkDetach, linkUpdate, objGet, objPin } from '../sys/commands.js';
import { preparePinPath } from '../sys/bpffs.js';
import { Errno } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { linkInfo, type LinkInfo } from '../sys/info.js';
import { iterCreate } from '../sys/link-commands.js';
import { PerfEventLinkType } from '../uapi/attach.js';
import { AttachType, enumName, LinkType } from '../uapi/enums.js';
import type { AttachableProgram } from './types.js';

export type LinkKind =
  | 'raw_tracepoint' | 'tracing' | 'cgroup' | 'iter' | 'netns' | 'xdp' | 'perf_event' | 'kprobe_multi' | 'struct_ops'
  | 'netfilter' | 'tcx' | 'uprobe_multi' | 'netkit' | 'sockmap' | 'unknown';

const KIND_OF: Record<number, LinkKind> = {
  [LinkType.RAW_TRACEPOINT]: 'raw_tracepoint', [LinkType.TRACING]: 'tracing', [LinkType.CGROUP]: 'cgroup', [LinkType.ITER]: 'iter',
  [LinkType.NETNS]: 'netns', [LinkType.XDP]: 'xdp', [LinkType.PERF_EVENT]: 'perf_event', [LinkType.KPROBE_MULTI]: 'kprobe_multi',
  [LinkType.STRUCT_OPS]: 'struct_ops', [LinkType.NETFILTER]: 'netfilter', [LinkType.TCX]: 'tcx', [LinkType.UPROBE_MULTI]: 'uprobe_multi',
  [LinkType.NETKIT]: 'netkit', [LinkType.SOCKMAP]: 'sockmap',
};

export class BpfLink {
  readonly method = 'link' as const;
  readonly kind: LinkKind;
  /** The attach type (BPF_*) it was created with, when known (0 otherwise). */
  readonly attachType: number;
  /** What it attaches ("program sockaccel_msg to map sock_hash (SK_MSG_VERDICT)"), for messages. */
  readonly description: string;
  readonly #fd: Fd;
  #afterClose?: () => void;

  /**
   * Wrap a link fd this object now owns. attach*() and fromPin() make these for you. `afterClose`
   * runs once after close() (a legacy tracefs probe removed with its last user).
   */
  constructor(kind: LinkKind, fd: Fd, attachType: number, description: string, afterClose?: () => void) {
    this.kind = kind;
    this.#fd = fd;
    this.attachType = attachType;
    this.description = description;
    this.#afterClose = afterClose;
  }

  /** Open a bpf_link pinned at `path`, as the class of its kind. A pin of another kind of object is a UsageError. */
  static fromPin(path: string): BpfLink {
    const fd = objGet(path, 'pinned link');
    try {
      const kind = fd.kind();
      if (kind !== 'bpf-link' && kind !== 'bpf_link') {
        throw new UsageError('WRONG_KIND', `${path} pins a ${kind.replace(/^bpf[-_]/, '')}, not a bpf_link`, { hint: `open it with the class for that kind (BpfMap.fromPin, BpfProgram.fromPin)` });
      }
      return BpfLink.fromFd(fd, `link pinned at ${path}`);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /** Take ownership of a link fd and wrap it in the class of its kind (from the kernel's link info). */
  static fromFd(fd: Fd, description: string): BpfLink {
    const info = linkInfo(fd, description);
    const kind = KIND_OF[info.type] ?? 'unknown';
    const attachType = typeof info.detail.attachType === 'number' ? info.detail.attachType : 0;
    const text = `${description} (link id ${info.id}, ${kind})`;
    const Class = (kind === 'perf_event' ? PERF_EVENT_CLASSES[Number(info.detail.type ?? 0)] : undefined) ?? LINK_CLASSES[kind] ?? BpfLink;
    return new Class(kind, fd, attachType, text);
  }

  /** Our fd of the link (closing it is close()'s job). */
  get fd(): Fd {
    return this.#fd;
  }

  /** The kernel's view: id, program id, and the kind's own details (cgroup id, ifindex, …). */
  info(): LinkInfo {
    return linkInfo(this.#fd, this.description);
  }

  /** Pin the link so it outlives this process; remove the pin to let it go. */
  pin(path: string): void {
    const { path: abs } = preparePinPath(path, this.description);
    objPin(this.#fd, abs, this.description);
  }

  /**
   * Swap the program atomically (BPF_LINK_UPDATE): no moment without a program. With `expected`, only
   * if the link still runs that program (BPF_F_REPLACE). Kinds without update support say EOPNOTSUPP.
   */
  update(program: AttachableProgram, opts: { expected?: AttachableProgram } = {}): void {
    linkUpdate(this.#fd, program.fd, `${this.description}: replacing its program with ${program.what}`, opts.expected?.fd);
  }

  /**
   * Detach now (BPF_LINK_DETACH), even if pinned elsewhere. Our fd stays open: close() it after. Some
   * kinds cannot be detached while referenced (perf-event links): a UsageError (NOT_SUPPORTED) says so —
   * remove their pin and close every fd instead.
   */
  detach(): void {
    try {
      linkDetach(this.#fd, this.description);
    } catch (e) {
      if (e instanceof BpfError && (e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOTSUPP)) {
        throw new UsageError('NOT_SUPPORTED', `${this.description}: the kernel cannot detach a ${this.kind} link while it is referenced`, {
          hint: 'remove its pin (rm the file on bpffs) and close every fd of it: the link goes with its last reference', cause: e,
        });
      }
      throw e;
    }
  }

  /** Drop our fd. Unpinned: the kernel detaches the link. Pinned: it stays attached. */
  close(): void {
    this.#fd.close();
    const after = this.#afterClose;
    this.#afterClose = undefined;
    after?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** sock_ops, cgroup_skb, cgroup/sock… on a cgroup v2 directory (5.7+). */
export class CgroupLink extends BpfLink {}
/** sk_msg / sk_skb on a SOCKMAP or SOCKHASH (6.10+). */
export class SockmapLink extends BpfLink {}
/** A raw tracepoint (raw_tp) or a BTF-typed one (tp_btf, via BPF_LINK_CREATE or RAW_TRACEPOINT_OPEN). */
export class RawTracepointLink extends BpfLink {}
/** fentry/fexit/fmod_ret/lsm and tp_btf created with BPF_LINK_CREATE. */
export class TracingLink extends BpfLink {}
/** A program on a perf event: a tracepoint, kprobe or uprobe opened with perf_event_open (5.15+). */
export class PerfEventLink extends BpfLink {}
/** A tracepoint program on its tracepoint's perf event. */
export class TracepointLink extends PerfEventLink {}
/** A kprobe or kretprobe (one kernel function) on its perf event. */
export class KprobeLink extends PerfEventLink {}
/** A uprobe or uretprobe (one place in a binary) on its perf event. */
export class UprobeLink extends PerfEventLink {}
/** kprobe.multi: one program on many kernel functions at once (5.18+, CONFIG_FPROBE). */
export class KprobeMultiLink extends BpfLink {}
/** uprobe.multi: one program on many places of one binary (6.6+). */
export class UprobeMultiLink extends BpfLink {}
/** XDP on a network interface. */
export class XdpLink extends BpfLink {}
/** tc via tcx on a network interface (6.6+). */
export class TcxLink extends BpfLink {}
/** sk_lookup or flow_dissector on a network namespace. */
export class NetnsLink extends BpfLink {}

/**
 * A BPF iterator (SEC("iter/…")). Each read makes a new instance of it (BPF_ITER_CREATE) and reads
 * what the program writes with bpf_seq_printf/bpf_seq_write until the end: as a stream of chunks
 * (open(), also an async iterator), all at once (read(), readText()) or synchronously (readSync()).
 */
export class IterLink extends BpfLink {
  /** A fresh run of the iterator as a Readable of Buffer chunks (async-iterable); it closes its fd at the end. */
  open(opts: { highWaterMark?: number } = {}): Readable {
    const fd = iterCreate(this.fd, `${this.description} (a new instance to read)`);
    return createReadStream('', { fd, autoClose: true, highWaterMark: opts.highWaterMark ?? 64 * 1024 });
  }

  /** One whole run of the iterator, read without blocking the event loop. */
  async read(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.open()) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** One whole run as UTF-8 text. */
  async readText(): Promise<string> {
    return (await this.read()).toString('utf8');
  }

  /** One whole run, read synchronously (blocks while the program runs over every object). */
  readSync(): Buffer {
    const fd = iterCreate(this.fd, `${this.description} (a new instance to read)`);
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const b = Buffer.alloc(64 * 1024);
        const n = readSync(fd, b, 0, b.length, null);
        if (n <= 0) break;
        chunks.push(b.subarray(0, n));
      }
      return Buffer.concat(chunks);
    } finally {
      closeSync(fd);
    }
  }
}

type LinkClass = new (kind: LinkKind, fd: Fd, attachType: number, description: string, afterClose?: () => void) => BpfLink;

const LINK_CLASSES: Partial<Record<LinkKind, LinkClass>> = {
  cgroup: CgroupLink, sockmap: SockmapLink, raw_tracepoint: RawTracepointLink, tracing: TracingLink, perf_event: PerfEventLink,
  kprobe_multi: KprobeMultiLink, uprobe_multi: UprobeMultiLink, xdp: XdpLink, tcx: TcxLink, netns: NetnsLink, iter: IterLink,
};

/** Perf-event links by what they hold, where the kernel says (bpf_link_info.perf_event.type, 6.6+). */
const PERF_EVENT_CLASSES: Partial<Record<number, LinkClass>> = {
  [PerfEventLinkType.TRACEPOINT]: TracepointLink, [PerfEventLinkType.KPROBE]: KprobeLink, [PerfEventLinkType.KRETPROBE]: KprobeLink,
  [PerfEventLinkType.UPROBE]: UprobeLink, [PerfEventLinkType.URETPROBE]: UprobeLink,
};

/** "program x to cgroup /sys/fs/cgroup/y (CGROUP_SOCK_OPS)". */
export function describeAttachment(program: AttachableProgram, target: string, attachType: number): string {
  return `${program.what} to ${target} (${enumName(AttachType, attachType)})`;
}
