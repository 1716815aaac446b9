// The shapes of `sockaccel-ffi bench`: options and the JSON result.

export type Transport = 'tcp' | 'sockaccel' | 'unix';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'sockaccel', 'unix'];

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
  /** The sockaccel install's counters at the end of the run (proof that its bytes were redirected). */
  sockaccel: { redirectedBytes: number; redirectedMessages: number; passedBytes: number; misses: number };
  settings: { sizes: number[]; duration: number; rounds: number; latencySize: number; startedAt: string; seconds: number };
}
