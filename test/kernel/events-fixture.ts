// The events fixture (bpf/fixtures/events.bpf.c) for the reader tests: load it with chosen ring
// sizes, fill its scratch map with a known pattern, run its producers with BPF_PROG_TEST_RUN, and
// say what each record must hold. Plus how to see what a reader leaves behind in this process.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { BpfObject, type BpfMap, type LoadedObject } from '../../src/index.js';
import { possibleCpus } from '../../src/sys/cpus.js';
import { fixture } from './helpers.js';

export const SCRATCH_SIZE = 16384;
export const HEAD_SIZE = 16;

/** Byte i of every record past its 16-byte head. */
export const patternByte = (i: number) => (i * 7 + 3) & 0xff;

export interface Events {
  loaded: LoadedObject;
  ring: BpfMap;
  perf: BpfMap;
  /** Run a producer: `count` records of `size` bytes (+ (seq*step) % span when span > 0). */
  run(program: 'ring_output' | 'ring_reserve' | 'perf_output', args: { count: number; size?: number; step?: number; span?: number; flags?: number; cpu?: number }): void;
  /** The .bss counters. */
  counters(): { seq: number; ringDrops: number; perfDrops: number };
  close(): void;
}

export function loadEvents(opts: { ringSize?: number; perfMap?: BpfMap; tgid?: number } = {}): Events {
  const obj = BpfObject.open(fixture('events.bpf.o'));
  if (opts.ringSize) obj.maps.get('ring')!.maxEntries = opts.ringSize;
  if (opts.perfMap) obj.maps.get('perf')!.maxEntries = opts.perfMap.maxEntries;
  obj.setGlobal('target_tgid', opts.tgid ?? process.pid);
  const loaded = obj.load(opts.perfMap ? { maps: { perf: opts.perfMap } } : {});
  const slot = Buffer.alloc(SCRATCH_SIZE);
  for (let i = 0; i < SCRATCH_SIZE; i++) slot[i] = patternByte(i);
  loaded.maps.get('scratch')!.update(Buffer.alloc(4), Buffer.concat(Array.from({ length: possibleCpus() }, () => slot)));
  return {
    loaded,
    ring: loaded.maps.get('ring')!,
    perf: loaded.maps.get('perf')!,
    run(program, a) {
      const ctx = Buffer.alloc(12 * 8);
      [a.count, a.size ?? 0, a.step ?? 0, a.span ?? 0, a.flags ?? 0].forEach((v, i) => ctx.writeBigUInt64LE(BigInt(v), i * 8));
      loaded.programs.get(program)!.testRun({ ctx, ...(a.cpu !== undefined ? { cpu: a.cpu } : {}) });
    },
    counters() {
      const bss = loaded.maps.get('.bss')!.lookup(Buffer.alloc(4))!;
      return { seq: Number(bss.readBigUInt64LE(0)), ringDrops: Number(bss.readBigUInt64LE(8)), perfDrops: Number(bss.readBigUInt64LE(16)) };
    },
    close() {
      loaded.close();
    },
  };
}

/** A test body with the fixture loaded, closed afterwards whatever happens. */
export function withEvents(opts: Parameters<typeof loadEvents>[0], body: (ev: Events) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const ev = loadEvents(opts);
    try {
      await body(ev);
    } finally {
      ev.close();
    }
  };
}

/** The size ring_output / perf_output give record `seq`. */
export function sizeOf(seq: number, size: number, step = 0, span = 0): number {
  let s = size + (span ? (seq * step) % span : 0);
  s &= SCRATCH_SIZE - 1;
  return Math.max(s, HEAD_SIZE);
}

/** Check one record of ring_output/perf_output: its head and every pattern byte. Returns its seq. */
export function checkRecord(data: Buffer, expectedSize: number, cpu?: number): { seq: number; size: number; cpu: number } {
  const seq = Number(data.readBigUInt64LE(0));
  const size = data.readUInt32LE(8);
  const onCpu = data.readUInt32LE(12);
  if (size !== expectedSize) throw new Error(`record ${seq}: head says ${size} bytes, expected ${expectedSize}`);
  if (data.length < size) throw new Error(`record ${seq}: ${data.length} bytes for a ${size}-byte record`);
  if (cpu !== undefined && onCpu !== cpu) throw new Error(`record ${seq}: written on CPU ${onCpu}, expected ${cpu}`);
  for (let i = HEAD_SIZE; i < size; i++) if (data[i] !== patternByte(i)) throw new Error(`record ${seq}: byte ${i} is ${data[i]}, expected ${patternByte(i)}`);
  return { seq, size, cpu: onCpu };
}

/** Open fds of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

function epollAndEventFds(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return /anon_inode:\[(eventpoll|eventfd)\]/.test(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;
    }
  }).length;
}
// Node's own (libuv's loop, its wake-up eventfds), before any reader exists.
const nodesOwn = epollAndEventFds();

/** The readers' shared poller has closed its epoll set and eventfd (no reader of an earlier test still waiting). */
export function pollerIdle(): boolean {
  return epollAndEventFds() === nodesOwn;
}

/** Memory mappings of BPF maps and perf events in this process (/proc/self/maps). */
export function kernelMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /anon_inode:(bpf-map|\[perf_event\])/.test(l)).length;
}

/** Wait until `cond` holds (polling every 5 ms, up to `ms`); true if it did. */
export async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}
