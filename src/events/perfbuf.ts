// Reading a BPF_MAP_TYPE_PERF_EVENT_ARRAY (bpf_perf_event_output in the program) on the event loop,
// as libbpf's perf_buffer does: for each CPU, a perf event of type SOFTWARE / BPF_OUTPUT with
// PERF_SAMPLE_RAW, its ring mapped (one metadata page + 2^n data pages), and its fd stored in the
// map at the CPU's index, where bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, …) finds it.
// Samples of one CPU arrive in order; there is no order across CPUs. When a CPU's ring is full the
// kernel drops samples and later writes a PERF_RECORD_LOST with their count: reported as 'lost'.
import { BpfError, UsageError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import { mapDelete, mapUpdate } from '../sys/commands.js';
import { Errno } from '../sys/errno.js';
import { onlineCpuList, possibleCpus } from '../sys/cpus.js';
import type { Fd } from '../sys/fd.js';
import { mapInfo } from '../sys/info.js';
import { Mapping } from '../sys/mmap.js';
import { systemPageSize } from '../sys/page-size.js';
import { perfEventOpen, perfEventParanoid, perfPermissionHint } from '../sys/perf.js';
import { enumName, MapType, UpdateFlag } from '../uapi/enums.js';
import { PERF_EVENT_MMAP_PAGE, PerfAttrFlag, PerfSampleFormat, PerfSwConfig, PerfType } from '../uapi/perf.js';
import { PerfRing } from './perf-ring.js';
import { EventReader, type ReaderOptions, type ReaderRing, type ReaderStats } from './reader.js';

export interface PerfBufferOptions extends ReaderOptions {
  /** Data pages of each CPU's ring: a power of 2 (default 16: 64 KiB with 4 KiB pages). */
  pages?: number;
  /** Wake the reader once this many samples are in a ring (default 1: every sample). */
  wakeupEvents?: number;
  /** Or wake it once this many bytes are in a ring (perf's watermark); replaces wakeupEvents. */
  watermark?: number;
  /**
   * The CPUs to read. Default: every online CPU below the map's max_entries (the map has one slot
   * per CPU index). A CPU not covered has no perf event in the map: bpf_perf_event_output on it
   * fails with -ENOENT (nothing is lost-counted).
   */
  cpus?: readonly number[];
}

/** A sample and the CPU whose ring it came from. */
export interface PerfSample {
  cpu: number;
  /**
   * What the program passed to bpf_perf_event_output, followed by up to 7 bytes of padding: the
   * kernel rounds raw samples up so records stay 8-byte aligned, keeps no exact length, and does not
   * clear the padding (it holds whatever the ring held before). Put the length in your data when
   * it varies.
   */
  data: Buffer;
}

export interface PerfBufferStats extends ReaderStats {
  /** Samples the kernel dropped because a ring was full, all CPUs. */
  lost: number;
}

/** A CPU the reader does not cover, and why. */
export interface UncoveredCpu { cpu: number; reason: 'offline' | 'beyond max_entries' | 'not asked for' }

export type PerfBufferMap = Pick<BpfMap, 'fd' | 'name'>;

interface CpuRing { cpu: number; event: Fd; mapping: Mapping; ring: PerfRing; stored: boolean }

/**
 * Reads the samples of a perf event array map, one ring per CPU. Three ways (one at a time):
 * `for await (const { cpu, data } of reader)`, `reader.on('data', (data, cpu) => …)` with
 * pause()/resume(), or `reader.consume(cb)`; lost samples: `reader.on('lost', (count, cpu) => …)`,
 * `reader.stats.lost`, `reader.lostOn(cpu)`. `cpus` says which CPUs it covers, `uncovered` which
 * not and why. Buffers: copies by default, views with `{ copy: false }` (valid until your callback
 * returns or the iterator's next step).
 */
export class PerfBufferReader extends EventReader<PerfSample, (data: Buffer, cpu: number) => void> {
  readonly what: string;
  readonly mapName: string;
  /** The CPUs with a ring in the map, ascending. */
  readonly cpus: readonly number[];
  /** The possible CPUs it does not cover, and why. */
  readonly uncovered: readonly UncoveredCpu[];
  /** Data bytes of each CPU's ring. */
  readonly ringSize: number;
  readonly #mapFd: Fd;
  readonly #rings: CpuRing[] = [];

  constructor(map: PerfBufferMap, options: PerfBufferOptions = {}) {
    super(options);
    this.mapName = map.name;
    this.what = `perf buffer reader of map ${map.name}`;
    const pages = options.pages ?? 16;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: pages must be a power of 2 (got ${String(options.pages)})`, { hint: 'e.g. { pages: 64 } for 256 KiB per CPU with 4 KiB pages' });
    }
    if (options.watermark !== undefined && options.wakeupEvents !== undefined) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: give wakeupEvents or watermark, not both`);
    }
    const page = systemPageSize();
    this.ringSize = pages * page;
    if (options.watermark !== undefined && !(Number.isInteger(options.watermark) && options.watermark > 0 && options.watermark < this.ringSize)) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: watermark must be between 1 and the ring's ${this.ringSize} bytes (got ${String(options.watermark)})`);
    }
    this.#mapFd = map.fd.dup();
    try {
      const info = mapInfo(this.#mapFd, `map ${map.name}`);
      if (info.type !== MapType.PERF_EVENT_ARRAY) {
        throw new UsageError('WRONG_KIND', `map ${map.name} is a ${enumName(MapType, info.type)} map, not a PERF_EVENT_ARRAY: a perf buffer reader cannot read it`, {
          hint: info.type === MapType.RINGBUF ? 'read a RINGBUF with new RingBufferReader(map)' : 'give it the map the program calls bpf_perf_event_output on',
        });
      }
      const { cpus, uncovered } = coverage(info.maxEntries, options.cpus, this.what);
      this.cpus = cpus;
      this.uncovered = uncovered;
      for (const cpu of cpus) this.#open(cpu, map.name, pages, page, options);
      this.watch(this.#rings.map((r): ReaderRing => ({ source: r.ring, fd: r.event, what: `perf ring of map ${map.name}, CPU ${r.cpu}`, cpu: r.cpu })));
    } catch (e) {
      this.release();
      throw e;
    }
  }

  #open(cpu: number, mapName: string, pages: number, page: number, options: PerfBufferOptions): void {
    const what = `the BPF output perf event of map ${mapName} on CPU ${cpu}`;
    const watermark = options.watermark !== undefined;
    let event: Fd;
    try {
      event = perfEventOpen({
        type: PerfType.SOFTWARE, config: BigInt(PerfSwConfig.BPF_OUTPUT), sample_type: BigInt(PerfSampleFormat.RAW), sample_period: 1n,
        ...(watermark ? { wakeup_watermark: options.watermark } : { wakeup_events: options.wakeupEvents ?? 1 }),
      }, -1, cpu, what, watermark ? PerfAttrFlag.WATERMARK : 0);
    } catch (e) {
      if (e instanceof BpfError && (e.errno === Errno.EACCES || e.errno === Errno.EPERM)) {
        const paranoid = perfEventParanoid();
        throw new BpfError(e.op, e.errno, e.code, `perf_event_open failed for ${what}: ${e.code}`, {
          // The reader's context first, then what this kernel needs (perf.ts knows Debian's patch).
          hint: `a perf buffer reader opens a BPF output event on every CPU it reads, which needs CAP_PERFMON (or CAP_SYS_ADMIN) unless kernel.perf_event_paranoid is 0 or less (it is ${paranoid ?? 'unknown'}): ${(paranoid ?? 0) > 2 ? perfPermissionHint(paranoid) : 'run as root, or grant CAP_PERFMON'}`,
          cause: e,
        });
      }
      throw e;
    }
    let mapping: Mapping;
    try {
      // Writable: we store data_tail there (a read-only mapping would make it an overwrite ring).
      mapping = Mapping.map(event, (1 + pages) * page, 0, true, `the perf ring of map ${mapName} on CPU ${cpu}`, {
        [Errno.EPERM]: `the rings would lock more memory than kernel.perf_event_mlock_kb allows this user: use fewer pages (now ${pages} per CPU), raise the sysctl, or run as root`,
        [Errno.EINVAL]: 'a perf ring is one page plus a power of 2 of pages',
      });
    } catch (e) {
      event.close();
      throw e;
    }
    const entry: CpuRing = { cpu, event, mapping, ring: undefined as unknown as PerfRing, stored: false };
    this.#rings.push(entry);
    const meta = mapping.bytes.subarray(0, page);
    // data_offset/data_size (Linux 4.1+) say where the data pages are; before that, right after the first page.
    const offset = Number(meta.readBigUInt64LE(PERF_EVENT_MMAP_PAGE.byName.get('data_offset')!.offset)) || page;
    const size = Number(meta.readBigUInt64LE(PERF_EVENT_MMAP_PAGE.byName.get('data_size')!.offset)) || pages * page;
    entry.ring = new PerfRing({ meta, data: mapping.bytes.subarray(offset, offset + size) });
    entry.ring.onLost = (count) => this.emit('lost', count, cpu);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(cpu);
    const value = Buffer.alloc(4);
    value.writeUInt32LE(event.value);
    mapUpdate(this.#mapFd, key, value, UpdateFlag.ANY, `map ${mapName} (the perf event of CPU ${cpu})`);
    entry.stored = true;
  }

  override get stats(): PerfBufferStats {
    let lost = 0;
    for (const r of this.#rings) lost += r.ring?.lost ?? 0;
    return { ...super.stats, lost };
  }

  /** Samples lost on one CPU's ring (0 for a CPU not covered). */
  lostOn(cpu: number): number {
    return this.#rings.find((r) => r.cpu === cpu)?.ring.lost ?? 0;
  }

  /** Every sample that is there now, to `callback(data, cpu)`, synchronously, up to `max`; returns how many. */
  consume(callback: (data: Buffer, cpu: number) => void, max?: number): number {
    return this.consumeWith(callback, max);
  }

  protected item(data: Buffer, ring: ReaderRing): PerfSample {
    return { cpu: ring.cpu, data };
  }

  protected deliver(data: Buffer, ring: ReaderRing, to: (data: Buffer, cpu: number) => void): void {
    to(data, ring.cpu);
  }

  protected release(): void {
    const key = Buffer.alloc(4);
    for (const r of this.#rings) {
      // Take our event out of the map: the map keeps its own reference to the perf event otherwise.
      if (r.stored && !this.#mapFd.closed) {
        key.writeUInt32LE(r.cpu);
        try {
          mapDelete(this.#mapFd, key, `map ${this.mapName}`);
        } catch {
          // Replaced or gone already: nothing of ours to remove.
        }
      }
      r.mapping.release();
      r.event.close();
    }
    this.#rings.length = 0;
    this.#mapFd.close();
  }

  override on(event: 'data', listener: (data: Buffer, cpu: number) => void): this;
  override on(event: 'lost', listener: (count: number, cpu: number) => void): this;
  override on(event: 'error', listener: (err: Error) => void): this;
  override on(event: 'close', listener: () => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }
}

/** The CPUs a reader covers: asked for (or all online), below max_entries; and the rest, with why. */
export function coverage(maxEntries: number, asked: readonly number[] | undefined, what: string, online = onlineCpuList(), possible = possibleCpus()): { cpus: number[]; uncovered: UncoveredCpu[] } {
  const onlineSet = new Set(online);
  const cpus: number[] = [];
  const uncovered: UncoveredCpu[] = [];
  if (asked) {
    for (const cpu of asked) {
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= possible) throw new UsageError('BAD_ARGUMENT', `${what}: CPU ${cpu} does not exist (this machine has CPUs 0-${possible - 1})`);
      if (cpu >= maxEntries) throw new UsageError('BAD_ARGUMENT', `${what}: CPU ${cpu} has no slot in the map (max_entries ${maxEntries})`, { hint: 'make the map larger (leave max_entries out of its definition: the loader sizes it to the CPU count)' });
      if (!onlineSet.has(cpu)) throw new UsageError('BAD_ARGUMENT', `${what}: CPU ${cpu} is offline`);
    }
  }
  const want = asked ? new Set(asked) : undefined;
  for (let cpu = 0; cpu < possible; cpu++) {
    if (want && !want.has(cpu)) uncovered.push({ cpu, reason: 'not asked for' });
    else if (cpu >= maxEntries) uncovered.push({ cpu, reason: 'beyond max_entries' });
    else if (!onlineSet.has(cpu)) uncovered.push({ cpu, reason: 'offline' });
    else cpus.push(cpu);
  }
  if (cpus.length === 0) throw new UsageError('BAD_ARGUMENT', `${what}: no CPU to read (max_entries ${maxEntries}, online ${online.join(',') || 'none'})`);
  return { cpus, uncovered };
}
