// File descriptors as owned objects: closed exactly once. A FinalizationRegistry closes what a
// caller forgot, as a safety net only — code in this package always closes explicitly.
import { libc } from './libc.js';

const forgotten = new FinalizationRegistry<number>((fd) => {
  libc().close(fd);
});

export class Fd {
  #fd: number;

  /**
   * Take ownership of a raw fd. fds 0–2 are moved to ≥ 3 first: some bpf_attr fields (btf_fd,
   * prog_btf_fd, inner_map_fd) read 0 as "none", and stdio numbers are better left alone.
   */
  constructor(raw: number) {
    if (raw < 3) {
      const moved = libc().dupAtLeast(raw, 3);
      libc().close(raw);
      if (moved < 0) throw new Error(`could not move fd ${raw} above stdio (errno ${libc().errno()})`);
      raw = moved;
    }
    this.#fd = raw;
    forgotten.register(this, raw, this);
  }

  /** The raw number, for a bpf_attr. Throws if already closed, so a use-after-close is loud. */
  get value(): number {
    if (this.#fd < 0) throw new Error('file descriptor used after close');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Close once; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    forgotten.unregister(this);
    libc().close(this.#fd);
    this.#fd = -1;
  }
}

/** Run `use(fd)`; if it throws, close `fd` so that error paths never leak it. */
export function closeOnThrow<T>(fd: Fd, use: (fd: Fd) => T): T {
  try {
    return use(fd);
  } catch (e) {
    fd.close();
    throw e;
  }
}
