// What attaching needs from a program and a map. BpfProgram and BpfMap satisfy these; the link layer
// depends only on them, so programs/ can offer attach methods without an import cycle.
import type { Fd } from '../sys/fd.js';

export interface AttachableProgram {
  readonly fd: Fd;
  readonly name: string;
  /** BPF_PROG_TYPE_*. */
  readonly type: number;
  /** The attach type given at load (0 when none). */
  readonly expectedAttachType: number;
  /** "program x (SOCK_OPS)", for messages. */
  readonly what: string;
}

export interface AttachableMap {
  readonly fd: Fd;
  readonly name: string;
  readonly type: number;
}

/**
 * How an attachment was made: a kernel bpf_link object, or what kernels without one for the target
 * use — BPF_PROG_ATTACH (cgroups, sockmaps), perf-event ioctls (tracepoints, kprobes, uprobes before
 * 5.15), netlink (XDP before 5.9, tc before 6.6), a socket option (socket filters).
 */
export type AttachMethod = 'link' | 'prog_attach' | 'perf_ioctl' | 'netlink' | 'sockopt';
