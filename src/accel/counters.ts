// The counters map: one PERCPU_ARRAY element holding a struct of __u64, in the order that
// bpf/sockaccel.bpf.c declares (struct sa_counters). Userspace sums each field over the CPUs.
import type { BpfMap } from '../index.js';
import type { Stats } from './types.js';

/** Field order of struct sa_counters in bpf/sockaccel.bpf.c. Keep in sync with the C (append only). */
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
  'dec_redirect',
  'dec_forced',
  'dec_probation',
  'dec_splice',
  'dec_blocking',
  'dec_small',
  'dec_excluded_port',
  'dec_excluded_cgroup',
  'dec_semantics',
  'rescued_splice',
  'rescued_halfclose',
  'at_risk_splice',
  'at_risk_blocking',
  'demoted_small',
  'observed_sides',
  'splice_dir_marked',
] as const;

export type CounterName = (typeof COUNTER_FIELDS)[number];

/** Sum every field over the per-CPU values (fields an older object lacks read as 0). */
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
    decisions: {
      redirect: n(c.dec_redirect),
      forced: n(c.dec_forced),
      probation: n(c.dec_probation),
      spliceReader: n(c.dec_splice),
      blockingReader: n(c.dec_blocking),
      smallWrites: n(c.dec_small),
      excludedPort: n(c.dec_excluded_port),
      excludedCgroup: n(c.dec_excluded_cgroup),
      readerSemantics: n(c.dec_semantics),
    },
    rescuedSplice: n(c.rescued_splice),
    rescuedHalfClose: n(c.rescued_halfclose),
    atRiskSplice: n(c.at_risk_splice),
    atRiskBlocking: n(c.at_risk_blocking),
    demotedSmall: n(c.demoted_small),
    observedSides: n(c.observed_sides),
    spliceDirectionsMarked: n(c.splice_dir_marked),
  };
}
