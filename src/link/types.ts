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

/** How an attachment was made: a kernel bpf_link object, or the older BPF_PROG_ATTACH. */
export type AttachMethod = 'link' | 'prog_attach';
