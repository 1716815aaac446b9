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
  f('bp_type', 52, 'u32'),
  f('config1', 56, 'u64'),
  f('kprobe_func', 56, 'str'),
  f('uprobe_path', 56, 'str'),
  f('config2', 64, 'u64'),
  f('probe_offset', 64, 'u64'),
]);
