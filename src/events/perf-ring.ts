// One CPU's perf ring (kernel/events/ring_buffer.c) over its memory: the metadata page
// (struct perf_event_mmap_page: data_head written by the kernel, data_tail by us) and 2^n data
// pages, mapped once, so a record that runs past the end continues at the start and is copied
// into a scratch buffer to be read in one piece. Records: struct perf_event_header (type, misc,
// size), then the body. A BPF output ring holds PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW (u32 size,
// then the data the program gave bpf_perf_event_output, padded so the record is 8-aligned; the
// padding is skipped, not cleared) and PERF_RECORD_LOST (u64 id, u64 count of samples dropped
// because the ring was full).
// Order: load data_head (acquire), read records up to it, store data_tail (release) once they are
// consumed (once per batch). Pure: no syscalls (the memory can be a fake, for tests).
import { PERF_EVENT_HEADER, PERF_EVENT_MMAP_PAGE, PerfRecordType } from '../uapi/perf.js';
import { SharedPosition } from './position.js';
import type { RecordSource } from './record-source.js';
import { viewOf } from './view.js';

const HEAD = PERF_EVENT_MMAP_PAGE.byName.get('data_head')!.offset;
const TAIL = PERF_EVENT_MMAP_PAGE.byName.get('data_tail')!.offset;
const TYPE = PERF_EVENT_HEADER.byName.get('type')!.offset;
const SIZE = PERF_EVENT_HEADER.byName.get('size')!.offset;
const HEADER_SIZE = 8;
/** A PERF_SAMPLE_RAW sample: header, u32 size, data. */
const RAW_DATA = HEADER_SIZE + 4;
/** A PERF_RECORD_LOST: header, u64 id, u64 lost. */
const LOST_COUNT = HEADER_SIZE + 8;

export interface PerfRingMemory {
  /** The metadata page (struct perf_event_mmap_page). */
  meta: Buffer;
  /** The data pages: `size` bytes, a power of 2. */
  data: Buffer;
}

export class PerfRing implements RecordSource {
  readonly size: number;
  readonly #mask: number;
  readonly #head: SharedPosition;
  readonly #tail: SharedPosition;
  readonly #data: Buffer;
  #tailPos: number;
  #headPos: number;
  #at: number;
  /** data_tail as last stored for the kernel. */
  #committed: number;
  /** copyOut: stop before a LOST record, so 'lost' is reported after the samples that preceded it. */
  #stopBeforeLost = false;
  readonly #marks: number[] = [];
  #scratch = Buffer.alloc(256);
  bytes: Buffer;
  memory: ArrayBuffer;
  base: number;
  offset = 0;
  length = 0;
  #recordSize = 0;
  /** Samples the kernel dropped because the ring was full (from PERF_RECORD_LOST records). */
  lost = 0;
  /** Called for each PERF_RECORD_LOST, with its count, when set. */
  onLost: ((count: number) => void) | undefined;
  /** Records of other types, skipped. */
  skipped = 0;

  constructor(memory: PerfRingMemory) {
    const size = memory.data.length;
    if (!(size >= 8 && (size & (size - 1)) === 0 && size <= 2 ** 31)) throw new RangeError(`a perf ring's data must be a power of 2 bytes (got ${size})`);
    this.size = size;
    this.#mask = size - 1;
    this.#head = new SharedPosition(memory.meta, HEAD);
    this.#tail = new SharedPosition(memory.meta, TAIL);
    this.#data = memory.data;
    this.bytes = memory.data;
    this.memory = memory.data.buffer as ArrayBuffer;
    this.base = memory.data.byteOffset;
    this.#tailPos = this.#tail.load();
    this.#headPos = this.#tailPos;
    this.#committed = this.#tailPos;
    this.#at = this.#tailPos % size;
  }

  available(): number {
    return this.#head.load() - this.#tailPos;
  }

  /** The next sample: true with bytes/offset/length set; LOST records on the way are counted and consumed. */
  peek(): boolean {
    for (;;) {
      if (this.#tailPos >= this.#headPos) {
        this.#headPos = this.#head.load();
        if (this.#tailPos >= this.#headPos) return false;
      }
      const data = this.#data;
      const at = this.#at;
      // Headers are 8 bytes at 8-aligned positions: never split by the end of the ring.
      const type = data.readUInt32LE(at + TYPE);
      const size = data.readUInt16LE(at + SIZE);
      if (size < HEADER_SIZE || size % 8 !== 0 || size > this.#headPos - this.#tailPos) {
        throw new Error(`perf ring: a record of ${size} bytes at position ${this.#tailPos} (head ${this.#headPos}): the ring is corrupt or was written by someone else`);
      }
      let record = data;
      let base = at;
      if (at + size > this.size) {
        // Wraps: put it together in the scratch buffer.
        if (this.#scratch.length < size) this.#scratch = Buffer.alloc(Math.max(size, this.#scratch.length * 2));
        const first = this.size - at;
        data.copy(this.#scratch, 0, at, this.size);
        data.copy(this.#scratch, first, 0, size - first);
        record = this.#scratch;
        base = 0;
      }
      if (type === PerfRecordType.SAMPLE && size >= RAW_DATA) {
        const length = record.readUInt32LE(base + HEADER_SIZE);
        if (length > size - RAW_DATA) throw new Error(`perf ring: a sample says ${length} bytes of data in a record of ${size}: not a PERF_SAMPLE_RAW ring`);
        if (this.bytes !== record) {
          this.bytes = record;
          this.memory = record.buffer as ArrayBuffer;
          this.base = record.byteOffset;
        }
        this.offset = base + RAW_DATA;
        this.length = length;
        this.#recordSize = size;
        return true;
      }
      if (type === PerfRecordType.LOST && size >= LOST_COUNT + 8) {
        if (this.#stopBeforeLost) return false;
        const count = Number(record.readBigUInt64LE(base + LOST_COUNT));
        this.lost += count;
        this.#step(size);
        this.onLost?.(count);
        continue;
      }
      this.skipped++;
      this.#step(size);
    }
  }

  advance(): void {
    this.#step(this.#recordSize);
    this.#recordSize = 0;
  }

  /** Store data_tail (release): the kernel may reuse the space of what we stepped past. */
  commit(): void {
    if (this.#tailPos !== this.#committed) {
      this.#tail.store(this.#tailPos);
      this.#committed = this.#tailPos;
    }
  }

  copyOut(max: number, out: Buffer[]): number {
    const from = this.#at;
    const start = this.#tailPos;
    const marks = this.#marks;
    let n = 0;
    while (n < max) {
      this.#stopBeforeLost = n > 0;
      if (!this.peek()) break;
      marks.push(this.#tailPos - start + RAW_DATA, this.length);
      this.advance();
      n++;
    }
    this.#stopBeforeLost = false;
    if (n > 0) {
      // The samples' span, in one copy (in two pieces when it runs past the end of the ring).
      const span = this.#tailPos - start;
      const copy = Buffer.allocUnsafe(span);
      const first = Math.min(span, this.size - from);
      this.#data.copy(copy, 0, from, from + first);
      if (first < span) this.#data.copy(copy, first, 0, span - first);
      const memory = copy.buffer as ArrayBuffer;
      const base = copy.byteOffset;
      for (let i = 0; i < marks.length; i += 2) out.push(viewOf(memory, base + marks[i]!, marks[i + 1]!));
      marks.length = 0;
    }
    this.commit();
    return n;
  }

  #step(size: number): void {
    this.#tailPos += size;
    this.#at = (this.#at + size) & this.#mask;
  }
}
