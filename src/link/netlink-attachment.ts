// What the netlink fallbacks (XDP before XDP links, tc before tcx) have in common: no kernel object
// holds the program, so the attachment keeps a dup of the program's fd and its id, and before
// removing or replacing anything it asks the kernel whether that place still runs our program —
// someone else's program there is left alone. close() behaves like closing an unpinned link (the
// program comes off); forget() leaves it attached.
import { UsageError } from '../errors.js';
import type { Fd } from '../sys/fd.js';
import { programInfo } from '../sys/info.js';
import { RtNetlink } from '../sys/netlink.js';
import { inHeldNetns, type ResolvedInterface } from './interface.js';
import type { AttachableProgram } from './types.js';

/** Run `work` with an rtnetlink socket opened in the target's namespace. */
export function withNetlink<T>(target: { netns?: Fd }, work: (nl: RtNetlink) => T): T {
  const nl = inHeldNetns(target.netns, () => RtNetlink.open());
  try {
    return work(nl);
  } finally {
    nl.close();
  }
}

export abstract class NetlinkAttachment {
  readonly method = 'netlink' as const;
  readonly description: string;
  readonly ifindex: number;
  protected readonly target: ResolvedInterface;
  /** "XDP links (5.9+)": what could have been pinned instead, for the pin() refusal. */
  readonly #pinnableInstead: string;
  #prog: Fd;
  #progId: number;
  #done = false;

  /** Takes a dup of the program's fd and the namespace fd of `target`. */
  protected constructor(prog: AttachableProgram, target: ResolvedInterface, description: string, pinnableInstead: string) {
    this.#prog = prog.fd.dup();
    this.#progId = programInfo(this.#prog, prog.what).id;
    this.target = target;
    this.ifindex = target.ifindex;
    this.description = description;
    this.#pinnableInstead = pinnableInstead;
  }

  /** The id of the program the kernel runs at our place now (undefined: none). */
  protected abstract currentProgramId(nl: RtNetlink): number | undefined;
  /** Put `program` at our place in one step (replacing ours). */
  protected abstract replaceWith(nl: RtNetlink, program: AttachableProgram): void;
  /** Take our program off. */
  protected abstract remove(nl: RtNetlink): void;
  /** Refuse a program of the wrong type. */
  protected abstract checkProgram(program: AttachableProgram): void;

  /** Replace the program in place (no moment without one). */
  update(program: AttachableProgram): void {
    if (this.#done) throw new UsageError('CLOSED', `${this.description}: already detached`);
    this.checkProgram(program);
    withNetlink(this.target, (nl) => this.replaceWith(nl, program));
    const next = program.fd.dup();
    this.#prog.close();
    this.#prog = next;
    this.#progId = programInfo(next, program.what).id;
  }

  /** Take the program off if it is still ours; false when it is not there any more (left alone). */
  detach(): boolean {
    if (this.#done) return false;
    try {
      return withNetlink(this.target, (nl) => {
        if (this.currentProgramId(nl) !== this.#progId) return false;
        this.remove(nl);
        return true;
      });
    } finally {
      this.#release();
    }
  }

  /** Not possible: nothing in the kernel to pin. */
  pin(path: string): never {
    throw new UsageError('NOT_SUPPORTED', `cannot pin ${this.description} at ${path}: it was attached over netlink, which makes no kernel BPF object to pin`, {
      hint: `it stays attached until removed: use forget() to leave it attached when this process exits (${this.#pinnableInstead} can be pinned)`,
    });
  }

  /** Let go without detaching: the program stays until someone removes it. */
  forget(): void {
    this.#release();
  }

  /** Detach (if still ours) and let go, like closing an unpinned link. */
  close(): void {
    if (!this.#done) this.detach();
  }

  #release(): void {
    if (this.#done) return;
    this.#done = true;
    this.#prog.close();
    this.target.netns?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
