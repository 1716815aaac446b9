// An attachment of a program. Two kinds, because kernels differ:
// - "link": a bpf_link (BPF_LINK_CREATE). It is a kernel object with an fd: pin it to keep it after
//   the process exits; closing the last reference (fd or pin) detaches it.
// - "prog_attach": the older BPF_PROG_ATTACH. There is no object to hold: it stays attached until
//   someone detaches it, whatever happens to our fds, and it cannot be pinned.
import { openSync } from 'node:fs';
import { BpfError } from '../errors.js';
import { enumName, AttachType } from '../sys/constants.js';
import { linkDetach, objGet, objPin, progDetach } from '../sys/commands.js';
import { Fd } from '../sys/fd.js';
import { linkInfo, type LinkInfo } from '../sys/info.js';
import { preparePinPath } from '../sys/bpffs.js';

export type AttachMethod = 'link' | 'prog_attach';

export class BpfLink {
  readonly method: AttachMethod;
  readonly attachType: number;
  /** What it attaches ("program sockaccel_msg to map sock_hash"), for messages. */
  readonly description: string;
  readonly #linkFd?: Fd;
  /** prog_attach only: target and program fds, kept to be able to detach. */
  readonly #target?: Fd;
  readonly #prog?: Fd;

  private constructor(method: AttachMethod, attachType: number, description: string, fds: { link?: Fd; target?: Fd; prog?: Fd }) {
    this.method = method;
    this.attachType = attachType;
    this.description = description;
    this.#linkFd = fds.link;
    this.#target = fds.target;
    this.#prog = fds.prog;
  }

  /** A bpf_link owning `fd`. */
  static fromLinkFd(fd: Fd, attachType: number, description: string): BpfLink {
    return new BpfLink('link', attachType, description, { link: fd });
  }

  /**
   * A PROG_ATTACH attachment. `target` and `prog` are our own (dup'ed or freshly opened) fds, used
   * by detach() and closed by close().
   */
  static fromProgAttach(target: Fd, prog: Fd, attachType: number, description: string): BpfLink {
    return new BpfLink('prog_attach', attachType, description, { target, prog });
  }

  /** Open a bpf_link pinned at `path`. */
  static fromPin(path: string): BpfLink {
    const fd = objGet(path, 'pinned link');
    try {
      const info = linkInfo(fd, `link pinned at ${path}`);
      return new BpfLink('link', info.attachType ?? 0, `link ${info.id} pinned at ${path}`, { link: fd });
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /** The link's kernel info (bpf_link only). */
  info(): LinkInfo {
    if (!this.#linkFd) throw new BpfError('BPF_OBJ_GET_INFO_BY_FD', 0, 'ENOTLINK', `${this.description} is a PROG_ATTACH attachment, not a bpf_link: it has no link info`);
    return linkInfo(this.#linkFd, this.description);
  }

  /** Pin the link so it outlives this process (bpf_link only). */
  pin(path: string): void {
    if (!this.#linkFd) {
      throw new BpfError('BPF_OBJ_PIN', 0, 'ENOTLINK', `cannot pin ${this.description}: it was attached with BPF_PROG_ATTACH (this kernel has no bpf_link for ${enumName(AttachType, this.attachType)})`, {
        hint: 'it stays attached without a pin until detach() is called; pin the program and map instead to find it again',
      });
    }
    const abs = preparePinPath(path, this.description);
    objPin(this.#linkFd, abs, this.description);
  }

  /** Detach now, even if the link is pinned elsewhere (the pin then holds a defunct link). */
  detach(): void {
    if (this.#linkFd) linkDetach(this.#linkFd, this.description);
    else progDetach(this.#target!, this.#prog!, this.attachType, this.description);
  }

  /**
   * Close our fds. A link that is not pinned is detached by this (the kernel drops it with its last
   * reference); a pinned link and a PROG_ATTACH attachment stay attached.
   */
  close(): void {
    this.#linkFd?.close();
    this.#target?.close();
    this.#prog?.close();
  }
}

/** Open a directory (a cgroup) as an fd for BPF commands. */
export function openDir(path: string): Fd {
  return new Fd(openSync(path, 'r'));
}
