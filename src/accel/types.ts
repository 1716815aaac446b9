// The accelerator's public shapes: options and results of up / down / status / stats / verify / doctor.
import type { AttachMethod } from '../index.js';

export const DEFAULT_PIN_DIR = '/sys/fs/bpf/sockaccel';

/**
 * How connections are chosen:
 * - "learn" (default): per service (netns, server address, port), from earlier connections that ran
 *   on plain TCP and were observed: only services whose readers sockmap serves correctly (no
 *   splice; no blocking reads exposed to spurious wake-ups) and whose traffic it makes faster
 *   (request/response, or writes of 32 KiB or more) are accelerated;
 * - "all": every loopback connection, as the first versions did. Unsafe for splice(2) readers
 *   (they see no data) and blocking readers (EAGAIN after a half-close or a signal); only with
 *   an explicit cgroup, for workloads known to be neither.
 */
export type Policy = 'learn' | 'all';

export interface UpOptions {
  /** cgroup v2 directory to accelerate (or several); default: the cgroup v2 root (the whole machine). */
  cgroup?: string | string[];
  /** cgroups below an accelerated one whose connections stay on TCP. */
  excludeCgroups?: string[];
  /** Only connections to these server ports are candidates (default: every port). */
  ports?: number[];
  /** Connections to these server ports always stay on TCP. */
  excludePorts?: number[];
  /** "learn" (default) or "all" (unsafe: needs an explicit cgroup). */
  policy?: Policy;
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
  /**
   * When other settings (cgroups, map size, version) mean replacing an install that still has
   * accelerated sockets open: "wait" (default) drains it as `down` does, then throws BUSY if they
   * stay open (the old install is left draining); "refuse" throws BUSY at once and leaves the old
   * install running as it is (the agent keeps serving with its old settings).
   */
  whenBusy?: 'wait' | 'refuse';
}

export interface UpResult {
  /** False when the same install was already up: nothing was changed. */
  changed: boolean;
  /** True when an older install with other settings was taken down first. */
  replaced: boolean;
  /** Set when the install stayed and only its config changed (no reload; accelerated connections
   * stay accelerated): what changed, e.g. ["policy learn → all"]. */
  inPlace?: string[];
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
  /** "draining" when down stopped half-way: new connections are no longer accelerated, open ones still are. */
  state?: 'up' | 'draining';
  /** The first accelerated cgroup (see cgroups for all). */
  cgroup?: string;
  cgroups?: string[];
  excludeCgroups?: string[];
  policy?: Policy;
  ports?: number[];
  excludePorts?: number[];
  /** The observers the learning policy runs on this kernel ("tp_btf", "fexit") or "none". */
  observers?: string;
  /** Services learned so far, by verdict. */
  services?: { total: number; accelerated: number; tcp: number; probation: number };
  trace?: boolean;
  version?: string;
  sockops?: { method: AttachMethod; programId: number; linkId?: number; linkIds?: number[] };
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
  /** Decisions at ESTABLISHED, one per socket, by reason. */
  decisions: Decisions;
  /** Splice read on an accelerated socket with nothing redirected unread: its peer moved to TCP. */
  rescuedSplice: number;
  /** Blocking half-close of an accelerated socket with nothing unread: taken out of the map. */
  rescuedHalfClose: number;
  /** Splice read on an accelerated socket with redirected data unread (that data cannot be spliced). */
  atRiskSplice: number;
  /** Blocking reads on accelerated sockets exposed to EAGAIN (the policy guessed wrong). */
  atRiskBlocking: number;
  /** Accelerated directions of small writes moved to TCP. */
  demotedSmall: number;
  /** Observations folded into service profiles. */
  observedSides: number;
  /** Directions marked TCP at insert because their reader splices. */
  spliceDirectionsMarked: number;
}

/** Why each socket went where it went, counted at ESTABLISHED. */
export interface Decisions {
  /** Inserted: a service learned to be safe and faster. */
  redirect: number;
  /** Inserted: policy "all". */
  forced: number;
  /** TCP, observed: the service is not known yet. */
  probation: number;
  /** TCP: both sides read with splice. */
  spliceReader: number;
  /** TCP: a blocking reader exposed to EAGAIN (after a half-close, or taking signals). */
  blockingReader: number;
  /** TCP: the service streams small writes. */
  smallWrites: number;
  /** TCP: port rules. */
  excludedPort: number;
  /** TCP: an excluded cgroup. */
  excludedCgroup: number;
  /** TCP: readers relying on MSG_WAITALL / SO_RCVLOWAT. */
  readerSemantics: number;
}

export interface VerifyResult {
  accelerated: boolean;
  payloadBytes: number;
  loBytes: number;
  redirectedBytes: number;
  transports: { address: string; payloadBytes: number; loBytes: number; redirectedBytes: number; accelerated: boolean; ok: boolean; decision: string }[];
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
