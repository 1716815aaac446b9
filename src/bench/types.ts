// The shapes of `sockaccel-ffi bench`: options and the JSON result.

/** sockaccel: an install with the default policy (learn), as `up` makes it; sockaccel-all: one with
 * policy "all" (every connection redirected: the old behaviour), measured with --compare-all. */
export type Transport = 'tcp' | 'sockaccel' | 'sockaccel-all' | 'unix';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'sockaccel', 'sockaccel-all', 'unix'];
export const ACCELERATED: readonly Transport[] = ['sockaccel', 'sockaccel-all'];

/** What the learning policy decided for the service a row's connections belong to. */
export interface RowDecision {
  verdict: 'accelerate' | 'probation' | 'tcp';
  reason: string;
}

export interface BenchOptions {
  /** Write sizes of the throughput runs, bytes. */
  sizes?: number[];
  /** Seconds per run (each transport, size and round). */
  duration?: number;
  /** Rounds; each result is the median of the rounds. */
  rounds?: number;
  /** Ping-pong message size, bytes. */
  latencySize?: number;
  /** Progress lines (one per run). */
  onProgress?: (line: string) => void;
  /** Aborts the run (Ctrl-C): the current load generator is killed and everything is cleaned up. */
  signal?: AbortSignal;
  /** The accelerator object to install (default: the shipped one). */
  objectPath?: string;
  /** Also measure an install with policy "all" (every connection redirected), for comparison. */
  compareAll?: boolean;
}

export interface ThroughputResult {
  transport: Transport;
  size: number;
  /** Median over the rounds, Gbit/s of payload. */
  gbps: number;
  gbpsMin: number;
  gbpsMax: number;
  /** (max - min) / median. */
  spread: number;
  /** Every round, in run order. */
  rounds: number[];
  /** sockaccel (learn) rows: the policy's decision for this size's service. */
  decision?: RowDecision;
}

export interface LatencyResult {
  transport: Transport;
  size: number;
  /** Median over the rounds of each round's p50, microseconds per round trip. */
  p50Us: number;
  /** Median over the rounds of each round's p99. */
  p99Us: number;
  p50Min: number;
  p50Max: number;
  /** Round trips measured per round (median). */
  iterations: number;
  rounds: { p50Us: number; p99Us: number }[];
  /** sockaccel (learn) rows: the policy's decision for the ping-pong service. */
  decision?: RowDecision;
}

/** An install's counters at the end of the run. */
export interface InstallCounters {
  policy: 'learn' | 'all';
  redirectedBytes: number;
  redirectedMessages: number;
  passedBytes: number;
  misses: number;
  /** Sockets by decision at ESTABLISHED. */
  decisions: Record<string, number>;
}

export interface MachineInfo {
  kernel: string;
  arch: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  compiler: string;
  virtualized?: string;
}

export interface BenchResult {
  throughput: ThroughputResult[];
  latency: LatencyResult[];
  machine: MachineInfo;
  /** The transports measured, in table order. */
  transports: Transport[];
  /** The sockaccel (learn) install's counters at the end of the run (what went where). */
  sockaccel: InstallCounters;
  /** The policy "all" install's counters (with --compare-all). */
  sockaccelAll?: InstallCounters;
  settings: { sizes: number[]; duration: number; rounds: number; latencySize: number; compareAll: boolean; startedAt: string; seconds: number };
}
