// The BPF ring buffer protocol (kernel/bpf/ringbuf.c) over its memory: the consumer page (ours to
// write), the producer page and the data pages, which the kernel maps twice in a row so a record
// that wraps past the end is still contiguous. Records: an 8-byte header (u32 length with the BUSY
// and DISCARD bits, u32 page offset), then the data, padded to 8 bytes.
// Order of operations, as the kernel's producer expects: load the producer position (acquire), then
// the record's header (acquire: the kernel publishes it with a release when the record is submitted
// or discarded), read the data, and only then store the new consumer position (release; once per
// batch of records) — from that moment the kernel may overwrite them. Pure: no syscalls (the memory can be a fake, for tests).
import { RingbufHeader } from '../uapi/ringbuf.js';
import { SharedPosition } from './position.js';
import type { RecordSource } from './record-source.js';
import { viewOf } from './view.js';

const { BUSY_BIT, DISCARD_BIT, HDR_SZ } = RingbufHeader;
const LENGTH_MASK = ~(BUSY_BIT | DISCARD_BIT);

export interface RingBufferMemory {
  /** The consumer page (at least 8 bytes, 8-aligned: the consumer position). Written by us. */
  consumer: Buffer;
  /** The producer page (the producer position, written by the kernel). */
  producer: Buffer;
  /** The data area as mapped: 2 × size bytes, the second half the same pages as the first. */
  data: Buffer;
  /** max_entries of the map: a power of 2, a multiple of the page size. */
  size: number;
}

export class RingBufferRing implements RecordSource {
  readonly size: number;
  readonly #mask: number;
  readonly #consumer: SharedPosition;
  readonly #producer: SharedPosition;
  readonly #words: Int32Array;
  readonly bytes: Buffer;
  readonly memory: ArrayBuffer;
  readonly base: number;
  /** Consumer position (bytes ever consumed), the last producer position seen, and cons mod size. */
  #cons: number;
  #prod: number;
  #at: number;
  /** The consumer position last stored for the kernel. */
  #committed: number;
  /** copyOut's (offset, length) pairs, reused. */
  readonly #marks: number[] = [];
  /** The record peek() found: its data in `bytes`, and its padded size. */
  offset = 0;
  length = 0;
  #padded = 0;
  /** Records the producer discarded, skipped. */
  discarded = 0;

  constructor(memory: RingBufferMemory) {
    const { size } = memory;
    if (!(size >= 8 && (size & (size - 1)) === 0 && size <= 2 ** 31)) throw new RangeError(`a ring buffer's size must be a power of 2 (got ${size})`);
    if (memory.data.length < 2 * size) throw new RangeError(`a ring buffer of ${size} bytes needs its data mapped twice (${2 * size} bytes; got ${memory.data.length})`);
    if (memory.data.byteOffset % 8 !== 0) throw new RangeError('a ring buffer\'s data must be 8-byte aligned');
    this.size = size;
    this.#mask = size - 1;
    this.#consumer = new SharedPosition(memory.consumer, 0);
    this.#producer = new SharedPosition(memory.producer, 0);
    this.bytes = memory.data;
    this.memory = memory.data.buffer as ArrayBuffer;
    this.base = memory.data.byteOffset;
    this.#words = new Int32Array(memory.data.buffer, memory.data.byteOffset, memory.data.length >>> 2);
    this.#cons = this.#consumer.load();
    this.#prod = this.#cons;
    this.#committed = this.#cons;
    this.#at = this.#cons % size;
  }

  /** Bytes submitted (or still being written) and not consumed yet. */
  available(): number {
    return this.#producer.load() - this.#cons;
  }

  /**
   * Find the next record to read: true with `offset`/`length` set, false when the ring is empty or
   * its next record is still being written (BUSY: records are read in order, so we stop there).
   * Discarded records on the way are stepped past and counted.
   */
  peek(): boolean {
    for (;;) {
      if (this.#cons >= this.#prod) {
        this.#prod = this.#producer.load();
        if (this.#cons >= this.#prod) return false;
      }
      const header = Atomics.load(this.#words, this.#at >>> 2);
      if (header & BUSY_BIT) return false;
      const length = header & LENGTH_MASK;
      const padded = (length + HDR_SZ + 7) & ~7;
      if (header & DISCARD_BIT) {
        this.discarded++;
        this.#step(padded);
        continue;
      }
      this.offset = this.#at + HDR_SZ;
      this.length = length;
      this.#padded = padded;
      return true;
    }
  }

  /** Step past the record peek() found. */
  advance(): void {
    this.#step(this.#padded);
    this.#padded = 0;
  }

  /** Publish the consumer position (release): the kernel may reuse the space of what we stepped past. */
  commit(): void {
    if (this.#cons !== this.#committed) {
      this.#consumer.store(this.#cons);
      this.#committed = this.#cons;
    }
  }

  copyOut(max: number, out: Buffer[]): number {
    const from = this.#at;
    const start = this.#cons;
    const marks = this.#marks;
    let n = 0;
    while (n < max && this.peek()) {
      marks.push(this.#cons - start + HDR_SZ, this.length);
      this.advance();
      n++;
    }
    const span = this.#cons - start;
    if (n > 0) {
      // One copy of the whole span: contiguous, since the data is mapped twice.
      const copy = Buffer.allocUnsafe(span);
      this.bytes.copy(copy, 0, from, from + span);
      const memory = copy.buffer as ArrayBuffer;
      const base = copy.byteOffset;
      for (let i = 0; i < marks.length; i += 2) out.push(viewOf(memory, base + marks[i]!, marks[i + 1]!));
      marks.length = 0;
    }
    this.commit();
    return n;
  }

  #step(padded: number): void {
    this.#cons += padded;
    this.#at = (this.#at + padded) & this.#mask;
  }
}
