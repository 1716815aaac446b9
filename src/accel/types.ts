// The accelerator's public shapes: options and results of up / down / status / stats / verify / doctor.
import type { AttachMethod } from '../index.js';

export const DEFAULT_PIN_DIR = '/sys/fs/bpf/sockaccel';

export interface UpOptions {
  /** cgroup v2 directory to accelerate; default: the cgroup v2 root (the whole machine). */
  cgroup?: string;
  /** Where everything is pinned; default /sys/fs/bpf/sockaccel. */
  pinDir?: string;
  /** Turn on one trace line per tracked connection and per miss (read them with `trace`). */
  trace?: boolean;
  /** Capacity of the socket map (default: as compiled, 65535). Tests use a small one. */
  maxEntries?: number;
  /** The BPF object to load; default: the one shipped in the package (bpf/sockaccel.bpf.o). */
  objectPath?: string;
  /** Force an attach method (tests); default: bpf_link where the kernel has it. */
  method?: AttachMethod;
  /** Narrate each step (the --explain output). */
  explain?: (line: string) => void;
}

export interface UpResult {
  /** False when the same install was already up: nothing was changed. */
  changed: boolean;
  /** True when an older install with other settings was taken down first. */
  replaced: boolean;
  status: Status;
}

export interface DownOptions {
  pinDir?: string;
  /** How long to wait for accelerated connections to close (ms); default 30000. */
  timeoutMs?: number;
  /** Remove everything even if accelerated connections are still open (they may see errors). */
  force?: boolean;
  /** Called about once a second while waiting: connections still accelerated. */
  onProgress?: (remaining: number, elapsedMs: number) => void;
  explain?: (line: string) => void;
}

export interface DownResult {
  /** False when nothing was installed (a no-op). */
  wasUp: boolean;
  /** True when everything of ours is gone (attachments and pins). */
  complete: boolean;
  /** Accelerated connections still open at the end (0 when complete, unless forced). */
  remaining: number;
  /** Milliseconds spent waiting for connections to close. */
  waitedMs: number;
}

export interface Status {
  up: boolean;
  pinDir: string;
  /** "partial" when down stopped half-way: new connections are no longer tracked, old ones still are. */
  state?: 'up' | 'draining';
  cgroup?: string;
  trace?: boolean;
  version?: string;
  sockops?: { method: AttachMethod; programId: number; linkId?: number };
  msg?: { method: AttachMethod; programId: number; linkId?: number };
  maps?: { sockHash: number; passed: number; counters: number };
  maxEntries?: number;
  /** Accelerated connections (sockets in the map) now. */
  connections?: number;
  installedAt?: string;
}

/** The counters, summed over CPUs. */
export interface Stats {
  socketsInserted: number;
  insertFailures: number;
  insertFailuresFull: number;
  insertFailuresOther: number;
  redirectedMessages: number;
  redirectedBytes: number;
  passedMessages: number;
  passedBytes: number;
  misses: number;
  /** Sends that could not record "this direction stays on TCP" (they still went through TCP). */
  markFailures: number;
  /** Connections not accelerated because payload had already flowed at establishment (TCP Fast Open). */
  skippedEarlyData: number;
  /** Old "stays on TCP" marks found (and cleared) when a socket was inserted. */
  staleMarks: number;
  /** "Stays on TCP" marks removed when their connection closed. */
  marksCleared: number;
}

export interface VerifyResult {
  accelerated: boolean;
  payloadBytes: number;
  loBytes: number;
  redirectedBytes: number;
  transports: { address: string; payloadBytes: number; loBytes: number; redirectedBytes: number; accelerated: boolean; ok: boolean }[];
  /** Why not accelerated, when it is not. */
  reason?: string;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when not ok. */
  fix?: string;
}
