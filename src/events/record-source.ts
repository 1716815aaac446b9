// What a reader needs from one ring (a BPF ring buffer, or one CPU's perf ring): records in order,
// each found by peek() and stepped past by advance(); commit() then tells the kernel how far we have
// read, and only from then on may it overwrite those records. So between peek() and commit() a
// record's data, bytes[offset, offset + length), stays put.
export interface RecordSource {
  /** Where the peeked record's data is (the mapped ring, or a scratch copy of a wrapped record). */
  readonly bytes: Buffer;
  readonly offset: number;
  readonly length: number;
  /** bytes.buffer and bytes.byteOffset, kept (reading .buffer of a view is not free). */
  readonly memory: ArrayBuffer;
  readonly base: number;
  /** True when a record is ready (offset/length set); false when there is none yet. */
  peek(): boolean;
  /** Step past the peeked record (the kernel does not know yet). */
  advance(): void;
  /** Publish the position we have stepped to: the kernel may reuse everything before it. */
  commit(): void;
  /**
   * Copy up to `max` ready records out in one piece (one allocation and one copy for all of them,
   * each pushed to `out` as its own Buffer over that copy), step past them and commit. Returns how
   * many.
   */
  copyOut(max: number, out: Buffer[]): number;
  /** Bytes in the ring not consumed yet (0 when empty). */
  available(): number;
}
