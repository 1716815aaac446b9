// BPF_PROG_ATTACH attachments: what kernels without a bpf_link for a target use (cgroups before 5.7,
// sockmaps before 6.10). There is no kernel object to hold, so:
// - close():  drops our fds; the program STAYS ATTACHED (nothing in the kernel belongs to us).
// - detach(): BPF_PROG_DETACH of exactly this program from exactly this target.
// - pin():    impossible (a UsageError): pin the program and the target's map instead.
import { UsageError } from '../errors.js';
import { progAttach, progDetachTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { AttachFlag } from '../uapi/enums.js';
import type { AttachableProgram } from './types.js';

export type ProgAttachTarget = 'cgroup' | 'sockmap' | 'netns' | 'other';

export class ProgAttachment {
  readonly method = 'prog_attach' as const;
  readonly kind: ProgAttachTarget;
  readonly attachType: number;
  readonly description: string;
  readonly #target: Fd;
  #prog: Fd;

  /** `target` and `prog` become this object's own fds (dup them first if the caller keeps theirs). */
  constructor(kind: ProgAttachTarget, target: Fd, prog: Fd, attachType: number, description: string) {
    this.kind = kind;
    this.#target = target;
    this.#prog = prog;
    this.attachType = attachType;
    this.description = description;
  }

  /** Not possible: a PROG_ATTACH attachment is not a kernel object. */
  pin(path: string): never {
    throw new UsageError('NOT_SUPPORTED', `cannot pin ${this.description} at ${path}: it was attached with BPF_PROG_ATTACH, which makes no kernel object to pin`, {
      hint: 'it stays attached without a pin until detach(); pin the program (and the map) to find it again',
    });
  }

  /**
   * Detach exactly this program from this target (BPF_PROG_DETACH). With `ifAttached`, a program that
   * is not attached there (any more) is not an error: returns false.
   */
  detach(opts: { ifAttached?: boolean } = {}): boolean {
    const { errno } = progDetachTry(this.#target, this.#prog, this.attachType, this.description);
    if (!errno) return true;
    if (opts.ifAttached && (errno === Errno.ENOENT || errno === Errno.EINVAL)) return false;
    throw bpfError('BPF_PROG_DETACH', errno, this.description);
  }

  /** Cgroups only: replace this program by `program` in place (BPF_F_REPLACE), keeping its position. */
  update(program: AttachableProgram): void {
    if (this.kind !== 'cgroup') throw new UsageError('NOT_SUPPORTED', `${this.description}: only cgroup attachments can be replaced in place`);
    const next = program.fd.dup();
    try {
      progAttach(this.#target, next, this.attachType, AttachFlag.ALLOW_MULTI | AttachFlag.REPLACE, `${this.description}: replacing it with ${program.what}`, this.#prog);
    } catch (e) {
      next.close();
      throw e;
    }
    this.#prog.close();
    this.#prog = next;
  }

  /** Drop our fds. The program stays attached: call detach() to remove it. */
  close(): void {
    this.#target.close();
    this.#prog.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
