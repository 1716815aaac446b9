// mmap(2) of a kernel object's fd (a BPF ring buffer, a perf event ring) as memory JavaScript can
// read: a Buffer over the mapped bytes, no copy. Releasing a mapping must not crash the process
// through a Buffer someone kept: the range is replaced by zero pages first (MAP_FIXED), so a stale
// view reads zeros, and the address range itself is unmapped once the last view is garbage.
import { arch } from 'node:process';
import { UsageError } from '../errors.js';
import { bpfError, Errno } from './errno.js';
import type { Fd } from './fd.js';
import { nativeLibc } from './libc.js';
import { systemPageSize } from './page-size.js';

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_FIXED = 0x10;
// The generic value (x86, arm, arm64, riscv, loongarch, ppc, s390); MIPS differs.
const MAP_ANONYMOUS = 0x20;

interface MmapBinding {
  mmap(addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  munmap(addr: bigint, length: number): number;
  view(addr: bigint, length: number): ArrayBuffer;
  errno(): number;
}

let bound: MmapBinding | undefined;
function binding(): MmapBinding {
  if (bound) return bound;
  if (arch.startsWith('mips')) throw new UsageError('NOT_SUPPORTED', `mmap flags are not known for architecture ${arch}`);
  const { koffi, lib } = nativeLibc();
  const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  bound = {
    mmap: (addr, length, prot, flags, fd, offset) => BigInt(mmap(addr, length, prot, flags, fd, offset) ?? 0),
    munmap: (addr, length) => munmap(addr, length),
    view: (addr, length) => koffi.view(addr, length),
    errno: () => koffi.errno(),
  };
  return bound;
}

// mmap returns MAP_FAILED ((void *)-1) on error; koffi gives pointers as unsigned BigInts.
const MAP_FAILED = (1n << 64n) - 1n;

// Unmaps the zero-page placeholder of a released mapping once no Buffer can reach it any more.
const placeholders = new FinalizationRegistry<{ address: bigint; length: number }>(({ address, length }) => {
  binding().munmap(address, length);
});

/** A shared mapping of (part of) an fd's memory. */
export class Mapping {
  readonly address: bigint;
  readonly length: number;
  #bytes: Buffer | undefined;

  private constructor(address: bigint, length: number) {
    this.address = address;
    this.length = length;
    const memory = binding().view(address, length);
    this.#bytes = Buffer.from(memory, 0, length);
    // The ArrayBuffer is what every view (ours and any the user kept) holds on to.
    placeholders.register(memory, { address, length }, this);
  }

  /**
   * mmap(NULL, length, PROT_READ[|PROT_WRITE], MAP_SHARED, fd, offset). `what` names the object in
   * errors ("ring buffer map events"); `hints` say what an errno means for this kind of object.
   */
  static map(fd: Fd, length: number, offset: number, writable: boolean, what: string, hints: Partial<Record<number, string>> = {}): Mapping {
    const b = binding();
    const address = b.mmap(null, length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd.value, offset);
    if (address === MAP_FAILED || address === 0n) {
      const errno = b.errno();
      throw bpfError('mmap', errno, `${what} (${length} bytes at offset ${offset}, ${writable ? 'read-write' : 'read-only'})`, {
        hint: hints[errno] ?? (errno === Errno.ENOMEM ? 'the address space or RLIMIT_MEMLOCK (ulimit -l) is exhausted'
          : errno === Errno.ENODEV ? 'this kind of object cannot be memory-mapped' : undefined),
      });
    }
    return new Mapping(address, length);
  }

  /** The mapped bytes. Throws once released. */
  get bytes(): Buffer {
    if (!this.#bytes) throw new UsageError('CLOSED', `a memory mapping (${this.length} bytes) was used after it was released`);
    return this.#bytes;
  }

  get released(): boolean {
    return this.#bytes === undefined;
  }

  /**
   * Give the object's memory back: the range now holds private zero pages (stale views read zeros
   * instead of faulting), unmapped for good when the last view is collected. Idempotent.
   */
  release(): void {
    if (!this.#bytes) return;
    this.#bytes = undefined;
    const b = binding();
    const r = b.mmap(this.address, this.length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    // Should the placeholder fail (no memory for a new VMA), unmap now and forget the range, so the
    // finalizer never unmaps an address someone else got since; a view kept past release() would
    // then fault, which is what the documentation of every reader forbids anyway.
    if (r === MAP_FAILED) {
      placeholders.unregister(this);
      b.munmap(this.address, this.length);
    }
  }
}
