// struct perf_event_attr (include/uapi/linux/perf_event.h): the fields perf_event_open(2) needs to
// put a BPF program on a tracepoint, kprobe or uprobe. Checked against the kernel's BTF like the bpf
// structs (test/kernel/abi.test.ts).
import { field as f, layout } from './layout.js';

/** perf_event_attr.type values. */
export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;

export const PERF_EVENT_ATTR = layout('struct perf_event_attr', { struct: 'perf_event_attr' }, [
  f('type', 0, 'u32', { enum: PerfType, always: true }),
  /** sizeof the struct as we know it: PERF_ATTR_SIZE_VER1 (72) here. */
  f('size', 4, 'u32', { always: true }),
  f('config', 8, 'u64', { always: true }),
  f('sample_period', 16, 'u64'),
  f('sample_type', 24, 'u64'),
  f('read_format', 32, 'u64'),
  /** The first bit of the flags word; the other flags are left 0. */
  f('disabled', 40, 'bit0'),
  f('wakeup_events', 48, 'u32'),
  /** The same u32 as wakeup_events, read as bytes when the WATERMARK flag is set. */
  f('wakeup_watermark', 48, 'u32'),
  f('bp_type', 52, 'u32'),
  f('config1', 56, 'u64'),
  f('kprobe_func', 56, 'str'),
  f('uprobe_path', 56, 'str'),
  f('config2', 64, 'u64'),
  f('probe_offset', 64, 'u64'),
]);

/** Bits of the perf_event_attr flags word (the u64 bitfield at offset 40: disabled, inherit, …), for
 * the ones the layout has no field of its own for. test/kernel/perfbuf.test.ts checks them in BTF. */
export const PerfAttrFlag = { WATERMARK: 1 << 14 } as const;
export const PERF_ATTR_FLAGS_OFFSET = 40;

/** perf_event_attr.config for PerfType.SOFTWARE (enum perf_sw_ids): the ones used here. */
export const PerfSwConfig = { BPF_OUTPUT: 10 } as const;
/** perf_event_attr.sample_type bits (enum perf_event_sample_format): the ones used here. */
export const PerfSampleFormat = { RAW: 1 << 10 } as const;
/** perf_event_header.type (enum perf_event_type): the records a BPF output ring holds. */
export const PerfRecordType = { LOST: 2, SAMPLE: 9 } as const;

/** struct perf_event_mmap_page: the first page of a perf ring; the data pages follow it. */
export const PERF_EVENT_MMAP_PAGE = layout('struct perf_event_mmap_page', { struct: 'perf_event_mmap_page' }, [
  /** Where the kernel has written up to (bytes, ever increasing); read with acquire semantics. */
  f('data_head', 1024, 'u64'),
  /** Where we have read up to; written with release semantics, after the records are consumed. */
  f('data_tail', 1032, 'u64'),
  f('data_offset', 1040, 'u64'),
  f('data_size', 1048, 'u64'),
]);

/** struct perf_event_header: the start of every record in a perf ring (8-byte aligned). */
export const PERF_EVENT_HEADER = layout('struct perf_event_header', { struct: 'perf_event_header' }, [
  f('type', 0, 'u32', { enum: PerfRecordType }),
  f('misc', 4, 'u16'),
  f('size', 6, 'u16'),
]);
