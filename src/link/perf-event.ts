// A program on a perf event (tracepoint, kprobe, uprobe), the two ways kernels allow:
// - a perf-event bpf_link (BPF_LINK_CREATE with BPF_PERF_EVENT, 5.15+): pinnable, cookie-capable;
// - PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE on the event fd (any kernel): the event fd holds
//   the program, so closing it is what detaches. That is PerfEventAttachment: close() disables the
//   event, closes it and removes a legacy tracefs probe behind it; it cannot be pinned.
import { UsageError } from '../errors.js';
import { hasPerfEventLinks, isLinkUnsupported } from '../features/probe.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { perfDisable, perfEnable, perfSetBpf } from '../sys/perf-probe.js';
import { AttachType } from '../uapi/enums.js';
import type { LinkKind, PerfEventLink } from './link.js';
import type { AttachableProgram } from './types.js';

export type PerfEventKind = 'tracepoint' | 'kprobe' | 'uprobe';

/** A program on a perf event through ioctls (kernels before 5.15): held by our event fd. */
export class PerfEventAttachment {
  readonly method = 'perf_ioctl' as const;
  readonly kind: PerfEventKind;
  readonly description: string;
  readonly #event: Fd;
  #afterClose?: () => void;

  constructor(kind: PerfEventKind, event: Fd, description: string, afterClose?: () => void) {
    this.kind = kind;
    this.#event = event;
    this.description = description;
    this.#afterClose = afterClose;
  }

  /** The perf event's fd (closing it is close()'s job). */
  get fd(): Fd {
    return this.#event;
  }

  /** Not possible: without perf-event links (5.15+) there is no kernel object to pin. */
  pin(path: string): never {
    throw new UsageError('NOT_SUPPORTED', `cannot pin ${this.description} at ${path}: this kernel has no perf-event links (5.15+), so the program is held by a perf event fd, which cannot be pinned`, {
      hint: 'keep this process (and the attachment) open for as long as the probe should run',
    });
  }

  /** Not possible on a perf event: detach and attach the new program instead. */
  update(): never {
    throw new UsageError('NOT_SUPPORTED', `${this.description}: a program on a perf event cannot be replaced in place`, { hint: 'close() this attachment and attach the new program' });
  }

  /** Same as close(): the program runs as long as the event fd is open. */
  detach(): void {
    this.close();
  }

  /** Disable and close the event (the program is detached with it), and remove a legacy probe. */
  close(): void {
    if (this.#event.closed) return;
    perfDisable(this.#event);
    this.#event.close();
    const after = this.#afterClose;
    this.#afterClose = undefined;
    after?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export interface PerfAttachOptions {
  /** A value the program reads with bpf_get_attach_cookie() (perf-event links only, 5.15+). */
  cookie?: bigint;
  /** 'link' or 'perf_ioctl' to force one way; by default a link where the kernel has them. */
  method?: 'link' | 'perf_ioctl';
}

type PerfLinkClass = new (kind: LinkKind, fd: Fd, attachType: number, description: string, afterClose?: () => void) => PerfEventLink;

/**
 * Put `prog` on the perf event `event` (which this call takes over: the link or the attachment
 * holds it from here on, and it is closed on failure). `afterClose` runs when the attachment goes.
 */
export function attachToPerfEvent<C extends PerfLinkClass>(prog: AttachableProgram, event: Fd, kind: PerfEventKind, description: string, Class: C,
  opts: PerfAttachOptions = {}, afterClose?: () => void): InstanceType<C> | PerfEventAttachment {
  try {
    const method = opts.method ?? (hasPerfEventLinks() ? 'link' : 'perf_ioctl');
    if (method === 'link') {
      const r = linkCreateTry({ prog_fd: prog.fd.value, target_fd: event.value, attach_type: AttachType.PERF_EVENT, 'perf_event.bpf_cookie': opts.cookie }, description);
      if (!r.fd) {
        throw bpfError('BPF_LINK_CREATE', r.errno, description, isLinkUnsupported(r.errno) && !hasPerfEventLinks()
          ? { hint: 'this kernel has no perf-event links (5.15+): use method "perf_ioctl"' }
          : r.errno === Errno.EINVAL ? { hint: `the program's type must match the event (${kind} program: SEC("${kind === 'tracepoint' ? 'tracepoint/…' : `${kind}/…`}"))` } : {});
      }
      // The link holds its own reference to the event.
      event.close();
      return new Class('perf_event', r.fd, AttachType.PERF_EVENT, description, afterClose) as InstanceType<C>;
    }
    if (opts.cookie !== undefined) {
      throw new UsageError('NOT_SUPPORTED', `${description}: a bpf cookie needs a perf-event link (5.15+), and this attachment is made with ioctls`, { hint: 'leave out the cookie on this kernel' });
    }
    perfSetBpf(event, prog.fd, description);
    perfEnable(event, description);
    return new PerfEventAttachment(kind, event, `${description} (perf event ioctl)`, afterClose);
  } catch (e) {
    event.close();
    afterClose?.();
    throw e;
  }
}
