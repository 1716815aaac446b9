// The counters map: one PERCPU_ARRAY element holding a struct of __u64, in the order that
// bpf/sockaccel.bpf.c declares (struct counters). Userspace sums each field over the CPUs.
import type { BpfMap } from '../index.js';
import type { Stats } from './types.js';

/** Field order of struct counters in bpf/sockaccel.bpf.c. Keep in sync with the C. */
export const COUNTER_FIELDS = [
  'sockets_inserted',
  'insert_failed_full',
  'insert_failed_other',
  'redirected_msgs',
  'redirected_bytes',
  'passed_msgs',
  'passed_bytes',
  'lookup_misses',
  'mark_failed',
  'skipped_early_data',
  'stale_marks',
  'marks_cleared',
] as const;

export type CounterName = (typeof COUNTER_FIELDS)[number];

/** Sum every field over the per-CPU values. */
export function readCounters(map: BpfMap): Record<CounterName, bigint> {
  const perCpu = map.lookupPerCpu(Buffer.alloc(4)) ?? [];
  const sums = Object.fromEntries(COUNTER_FIELDS.map((f) => [f, 0n])) as Record<CounterName, bigint>;
  for (const slot of perCpu) {
    COUNTER_FIELDS.forEach((f, i) => {
      if ((i + 1) * 8 <= slot.length) sums[f] += slot.readBigUInt64LE(i * 8);
    });
  }
  return sums;
}

export function toStats(c: Record<CounterName, bigint>): Stats {
  const n = (v: bigint) => Number(v);
  return {
    socketsInserted: n(c.sockets_inserted),
    insertFailures: n(c.insert_failed_full + c.insert_failed_other),
    insertFailuresFull: n(c.insert_failed_full),
    insertFailuresOther: n(c.insert_failed_other),
    redirectedMessages: n(c.redirected_msgs),
    redirectedBytes: n(c.redirected_bytes),
    passedMessages: n(c.passed_msgs),
    passedBytes: n(c.passed_bytes),
    misses: n(c.lookup_misses),
    markFailures: n(c.mark_failed),
    skippedEarlyData: n(c.skipped_early_data),
    staleMarks: n(c.stale_marks),
    marksCleared: n(c.marks_cleared),
  };
}
