// A u64 position in memory shared with the kernel (a ring's producer or consumer position), as a
// JavaScript number: exact up to 2^53 bytes, which no ring reaches. Loads and stores are Atomics
// operations — V8 compiles them to the CPU's atomic instructions (seq-cst, so at least the acquire
// and release the ring protocols need), also on the non-shared ArrayBuffer an mmap view is, and it
// does not reorder plain memory accesses across them. Pure: no syscalls.
import { endianness } from 'node:os';

const LOW = endianness() === 'LE' ? 0 : 1;
const TWO_32 = 2 ** 32;

/** The memory a position lives in must be 8-byte aligned (pages are). */
export class SharedPosition {
  readonly #u32: Uint32Array;
  readonly #u64: BigUint64Array;
  /** The high half we last stored, so a store that keeps it writes the low 32 bits only (no BigInt). */
  #high = -1;

  constructor(memory: Buffer, offset: number) {
    const at = memory.byteOffset + offset;
    if (at % 8 !== 0 || offset + 8 > memory.length) throw new RangeError(`a ring position must be 8 aligned bytes inside its page (offset ${offset})`);
    this.#u32 = new Uint32Array(memory.buffer, at, 2);
    this.#u64 = new BigUint64Array(memory.buffer, at, 1);
  }

  /** Acquire load. */
  load(): number {
    return Number(Atomics.load(this.#u64, 0));
  }

  /**
   * Release store. Only the reader writes its consumer position, so when the high half is the one
   * it wrote last, storing the low half alone is the same single atomic update of the u64.
   */
  store(position: number): void {
    const high = Math.floor(position / TWO_32);
    if (high === this.#high) {
      Atomics.store(this.#u32, LOW, position >>> 0);
    } else {
      Atomics.store(this.#u64, 0, BigInt(position));
      this.#high = high;
    }
  }
}
