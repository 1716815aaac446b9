// File descriptors as owned objects: closed exactly once. A FinalizationRegistry closes what a
// caller forgot, as a safety net only — code in this package always closes explicitly.
import { readlinkSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { bpfError } from './errno.js';
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
      if (moved < 0) throw bpfError('fcntl', libc().errno(), `fd ${raw} (moving it above stdio)`);
      raw = moved;
    }
    this.#fd = raw;
    forgotten.register(this, raw, this);
  }

  /** The raw number, for a bpf_attr. Throws if already closed, so a use-after-close is loud. */
  get value(): number {
    if (this.#fd < 0) throw new UsageError('CLOSED', 'a file descriptor was used after close(): the map, program or link it belonged to was closed', { hint: 'keep the object open while you use it, or open it again (e.g. fromPin)' });
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A new fd for the same kernel object, owned by the caller (F_DUPFD_CLOEXEC, above stdio). */
  dup(): Fd {
    const raw = libc().dupAtLeast(this.value, 3);
    if (raw < 0) throw bpfError('fcntl', libc().errno(), `fd ${this.value} (duplicating it)`);
    return new Fd(raw);
  }

  /** What the fd is, from /proc/self/fd: "bpf-map", "bpf-prog", "bpf-link", "btf", or another anon inode or a path. */
  kind(): string {
    const target = readlinkSync(`/proc/self/fd/${this.value}`);
    return target.startsWith('anon_inode:') ? target.slice('anon_inode:'.length) : target;
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
