// BPF ring buffer record headers (include/uapi/linux/bpf.h, the anonymous enum after struct
// bpf_ringbuf_reserve's helpers): each record starts with a u32 length whose top bits say whether
// the producer is still writing it or threw it away, and a u32 the kernel uses to find its page.
// Checked against the kernel's BTF by test/kernel/ringbuf.test.ts.

/** Record header bits and size. */
export const RingbufHeader = {
  /** Set while the producer has reserved the record and not yet submitted or discarded it. */
  BUSY_BIT: 0x80000000,
  /** Set when the producer discarded the record: skip it. */
  DISCARD_BIT: 0x40000000,
  /** Bytes of header before each record's data; records are padded to 8 bytes. */
  HDR_SZ: 8,
} as const;

/** bpf_ringbuf_output/submit flags (BPF_RB_*). */
export const RingbufFlag = { NO_WAKEUP: 1, FORCE_WAKEUP: 2 } as const;
