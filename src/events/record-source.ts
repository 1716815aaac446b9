// What a reader needs from one ring (a BPF ring buffer, or one CPU's perf ring): records in order,
// each found by peek() and then consumed by advance(). Between the two, the record's data is
// bytes[offset, offset + length) and stays put; after advance() the kernel may overwrite it.
export interface RecordSource {
  /** Where the peeked record's data is (the mapped ring, or a scratch copy of a wrapped record). */
  readonly bytes: Buffer;
  readonly offset: number;
  readonly length: number;
  /** True when a record is ready (offset/length set); false when there is none yet. */
  peek(): boolean;
  /** Consume the peeked record. */
  advance(): void;
  /** Bytes in the ring not consumed yet (0 when empty). */
  available(): number;
}
