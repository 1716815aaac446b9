// A map in the kernel, by its fd. Keys and values are Buffers; sizes are checked here so that a
// wrong-sized key names the map instead of surfacing as EFAULT or garbage. Walks (keys, entries,
// drain) and batch updates/deletes go by the kernel's batch commands where it has them (batch.ts),
// element by element otherwise (walk.ts); typed() gives the same map with JS keys and values.
import { BpfError, UsageError } from '../errors.js';
import { preparePinPath } from '../sys/bpffs.js';
import { mapCreate, mapDelete, mapLookup, mapLookupAndDelete, mapNextKey, mapUpdate, objGet, objPin } from '../sys/commands.js';
import { possibleCpus } from '../sys/cpus.js';
import { Errno } from '../sys/errno.js';
import { closeOnThrow, Fd } from '../sys/fd.js';
import { mapInfo, type MapInfo } from '../sys/info.js';
import { enumName, MapType, UpdateFlag } from '../uapi/enums.js';
import { batchPage, batchWalk, defaultBatchSize, deleteBatch, LOCK_HINT, updateBatch, walksByBatch, type BatchCursor, type BatchPage } from './batch.js';
import { kernelMapBtfTypes, recordedMapBtfTypes } from './map-btf.js';
import { joinPerCpu, PER_CPU_MAP_TYPES, perCpuSlot, splitPerCpu } from './percpu.js';
import { mapCodecs, TypedMap } from './typed.js';
import { walkKeys, type WalkStats } from './walk.js';

/** Map types holding one value sequence without keys: push, pop, peek. */
const QUEUES: ReadonlySet<number> = new Set([MapType.QUEUE, MapType.STACK]);
/** Map types whose elements cannot be deleted (arrays: every index always exists). */
const ARRAYS: ReadonlySet<number> = new Set([MapType.ARRAY, MapType.PERCPU_ARRAY]);

export interface LookupOptions {
  /** Copy the value under its struct bpf_spin_lock (BPF_F_LOCK): the map's value must have one. */
  lock?: boolean;
}

export interface WalkOptions extends LookupOptions {
  /** Elements per batch (BPF_MAP_LOOKUP_BATCH); by default as many as fit in about 1 MiB. */
  batchSize?: number;
}

export interface BatchOptions extends LookupOptions {
  /** Where to go on from (the `next` of the previous page); the start when absent. */
  cursor?: BatchCursor;
  /** At most this many elements (a hash bucket larger than that grows it); by default as for walks. */
  count?: number;
}

/** The shape of a map: what BPF_MAP_CREATE takes, and what a map reports about itself. */
export interface MapShape {
  name: string;
  /** BPF_MAP_TYPE_*. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags. */
  flags: number;
}

export class BpfMap implements MapShape {
  readonly #fd: Fd;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  /** The value size of one element (for per-CPU maps: of one CPU's slot). */
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;

  /** Wrap an fd this map now owns. Prefer BpfMap.create / fromPin / fromFd; load() builds these for you. */
  constructor(fd: Fd, shape: MapShape) {
    this.#fd = fd;
    this.name = shape.name;
    this.type = shape.type;
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
  }

  /** Create a map with no BTF (BPF_MAP_CREATE). Names: 15 characters, letters, digits, '_' and '.'. */
  static create(shape: MapShape & { innerMap?: BpfMap; mapExtra?: bigint }): BpfMap {
    const what = `map ${shape.name} (${enumName(MapType, shape.type)})`;
    const fd = mapCreate({
      map_type: shape.type, key_size: shape.keySize, value_size: shape.valueSize, max_entries: shape.maxEntries,
      map_flags: shape.flags, map_name: shape.name, inner_map_fd: shape.innerMap?.fd.value, map_extra: shape.mapExtra,
    }, what);
    return new BpfMap(fd, shape);
  }

  /** Take ownership of `fd` and read what the kernel says about it. A non-map fd is a UsageError. */
  static fromFd(fd: Fd, name?: string): BpfMap {
    return closeOnThrow(fd, (f) => {
      const kind = f.kind();
      if (kind !== 'bpf-map') throw new UsageError('WRONG_KIND', `${name ? `map ${name}: ` : ''}fd ${f.value} is a ${kind}, not a BPF map`);
      const info = mapInfo(f, `map ${name ?? `fd ${f.value}`}`);
      return new BpfMap(f, { name: name ?? info.name, type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.mapFlags });
    });
  }

  /** Open a map pinned at `path`. A pin of another kind (a program, a link) is a UsageError naming it. */
  static fromPin(path: string): BpfMap {
    const fd = objGet(path, 'pinned map');
    return closeOnThrow(fd, (f) => {
      const kind = f.kind();
      if (kind !== 'bpf-map') {
        throw new UsageError('WRONG_KIND', `${path} pins a ${kind.replace(/^bpf[-_]/, '')}, not a map`, { hint: 'open it with the class for that kind (BpfProgram.fromPin, BpfLink.fromPin)' });
      }
      return BpfMap.fromFd(f);
    });
  }

  get fd(): Fd {
    return this.#fd;
  }

  /** True for per-CPU maps, whose lookups return one value slot (rounded to 8 bytes) per possible CPU. */
  get perCpu(): boolean {
    return PER_CPU_MAP_TYPES.has(this.type);
  }

  /** Bytes a lookup returns: valueSize, or for per-CPU maps one 8-byte-aligned slot per possible CPU. */
  get lookupSize(): number {
    return this.perCpu ? perCpuSlot(this.valueSize) * possibleCpus() : this.valueSize;
  }

  get what(): string {
    return `map ${this.name} (${enumName(MapType, this.type)})`;
  }

  #checkKey(key: Buffer): void {
    if (!Buffer.isBuffer(key) || key.length !== this.keySize) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: key must be a Buffer of ${this.keySize} bytes, got ${Buffer.isBuffer(key) ? key.length + ' bytes' : typeof key}`);
    }
  }

  /** Ring buffers and perf event arrays hold records, not keys: say which reader reads them. */
  #checkHasKeys(): void {
    if (this.type === MapType.RINGBUF) throw new UsageError('NOT_SUPPORTED', `${this.what} is a ring buffer: it has no keys or values to look up`, { hint: 'read its records with new RingBufferReader(map) (for await, on(\'data\') or consume())' });
    if (this.type === MapType.PERF_EVENT_ARRAY) throw new UsageError('NOT_SUPPORTED', `${this.what} holds perf event fds, not values to look up`, { hint: 'read the samples with new PerfBufferReader(map)' });
  }

  #checkValue(value: Buffer): void {
    // SOCKMAP/SOCKHASH take a socket fd (u32 or u64) whatever their value size for lookups.
    const sockMap = this.type === MapType.SOCKMAP || this.type === MapType.SOCKHASH;
    const expected = this.lookupSize;
    if (!Buffer.isBuffer(value) || (!sockMap && value.length !== expected)) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: value must be a Buffer of ${expected} bytes${this.perCpu ? ' (one 8-byte-aligned slot per possible CPU: updatePerCpu takes one Buffer per CPU)' : ''}, got ${Buffer.isBuffer(value) ? value.length + ' bytes' : typeof value}`);
    }
  }

  #checkPerCpu(op: string, instead: string): void {
    if (!this.perCpu) throw new UsageError('BAD_ARGUMENT', `${this.what} is not a per-CPU map: use ${instead}() instead of ${op}()`);
  }

  /** Run `call`; with `lock`, an EINVAL from the kernel gets the reason BPF_F_LOCK is refused. */
  #locked<T>(lock: boolean | undefined, call: () => T): T {
    if (!lock) return call();
    try {
      return call();
    } catch (e) {
      if (e instanceof BpfError && e.errno === Errno.EINVAL && !e.hint) throw new BpfError(e.op, e.errno, e.code, `${e.op} with BPF_F_LOCK failed for ${this.what}: ${e.code}`, { hint: LOCK_HINT, cause: e });
      throw e;
    }
  }

  /**
   * The value for `key`, or undefined when absent. Per-CPU maps: all CPUs' slots, concatenated.
   * `lock`: copied under the value's bpf_spin_lock (BPF_F_LOCK).
   */
  lookup(key: Buffer, options: LookupOptions = {}): Buffer | undefined {
    this.#checkHasKeys();
    this.#checkKey(key);
    return this.#locked(options.lock, () => mapLookup(this.#fd, key, Buffer.alloc(this.lookupSize), this.what, options.lock ? UpdateFlag.LOCK : 0));
  }

  /** Per-CPU maps: the value for `key` split into one Buffer per possible CPU. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    this.#checkPerCpu('lookupPerCpu', 'lookup');
    const all = this.lookup(key);
    return all && splitPerCpu(all, this.valueSize, possibleCpus());
  }

  /**
   * Set `key` to `value`. flags: UpdateFlag.ANY (default), NOEXIST or EXIST; or in UpdateFlag.LOCK
   * to write under the value's bpf_spin_lock. Per-CPU maps take all CPUs' slots (see updatePerCpu).
   */
  update(key: Buffer, value: Buffer, flags: number = UpdateFlag.ANY): void {
    this.#checkKey(key);
    this.#checkValue(value);
    this.#locked((flags & UpdateFlag.LOCK) !== 0, () => mapUpdate(this.#fd, key, value, flags, this.what));
  }

  /** Per-CPU maps: set `key` to one value per possible CPU (each valueSize bytes). */
  updatePerCpu(key: Buffer, values: readonly Buffer[], flags: number = UpdateFlag.ANY): void {
    this.#checkPerCpu('updatePerCpu', 'update');
    this.update(key, joinPerCpu(values, this.valueSize, possibleCpus(), this.what), flags);
  }

  /** Delete `key`: true if it was there. */
  delete(key: Buffer): boolean {
    this.#checkKey(key);
    return mapDelete(this.#fd, key, this.what);
  }

  /**
   * Take the value at `key` out in one step (BPF_MAP_LOOKUP_AND_DELETE_ELEM): hash maps (Linux
   * 5.14+; `lock` needs a bpf_spin_lock in the value), queues and stacks (no key: see pop()).
   */
  lookupAndDelete(key: Buffer, options: LookupOptions = {}): Buffer | undefined {
    this.#checkKey(key);
    try {
      return this.#locked(options.lock, () => mapLookupAndDelete(this.#fd, QUEUES.has(this.type) ? undefined : key, Buffer.alloc(this.lookupSize), this.what, options.lock ? UpdateFlag.LOCK : 0));
    } catch (e) {
      if (e instanceof BpfError && (e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP)) {
        throw new UsageError('NOT_SUPPORTED', `${this.what}: this kernel cannot look up and delete in one step for this map type`, {
          hint: 'hash maps need Linux 5.14+, queues and stacks 4.20+; elsewhere lookup() then delete() (not atomic)', cause: e,
        });
      }
      throw e;
    }
  }

  #checkQueue(op: string, also: readonly number[] = []): void {
    if (!QUEUES.has(this.type) && !also.includes(this.type)) {
      throw new UsageError('WRONG_KIND', `${this.what}: ${op}() is for queues and stacks${also.length ? ' (and bloom filters)' : ''}`, { hint: 'use update()/lookup()/delete() with a key' });
    }
  }

  /** Queues, stacks, bloom filters: add a value (flags UpdateFlag.EXIST: a full queue/stack drops its oldest). */
  push(value: Buffer, flags: number = UpdateFlag.ANY): void {
    this.#checkQueue('push', [MapType.BLOOM_FILTER]);
    this.#checkValue(value);
    mapUpdate(this.#fd, undefined, value, flags, this.what);
  }

  /** Queues and stacks: take the next value out (FIFO for a queue, LIFO for a stack), or undefined when empty. */
  pop(): Buffer | undefined {
    this.#checkQueue('pop');
    return mapLookupAndDelete(this.#fd, undefined, Buffer.alloc(this.valueSize), this.what);
  }

  /** Queues and stacks: the next value, left in place, or undefined when empty. */
  peek(): Buffer | undefined {
    this.#checkQueue('peek');
    return mapLookup(this.#fd, Buffer.alloc(0), Buffer.alloc(this.valueSize), this.what);
  }

  /** The key after `key` in the kernel's order (the first key without one), or undefined at the end (BPF_MAP_GET_NEXT_KEY). */
  nextKey(key?: Buffer): Buffer | undefined {
    if (key !== undefined) this.#checkKey(key);
    return mapNextKey(this.#fd, key, this.keySize, this.what);
  }

  /**
   * Every key once, in the kernel's order: by batch where the kernel has it (a hash map's walk then
   * never restarts), else by GET_NEXT_KEY, which survives the current key being deleted and never
   * repeats a key. Keys added during the walk may or may not be met. `stats` counts restarts.
   */
  *keys(stats?: WalkStats): Generator<Buffer> {
    this.#checkHasKeys();
    if (walksByBatch(this, 'lookup')) {
      for (const [k] of batchWalk(this, 'lookup', defaultBatchSize(this))) yield k;
      return;
    }
    yield* walkKeys(this, stats);
  }

  /**
   * Every [key, value] (per-CPU values: all CPUs' slots): one BPF_MAP_LOOKUP_BATCH per batch where
   * the kernel has it, else GET_NEXT_KEY and a lookup per key (entries deleted meanwhile are skipped).
   */
  *entries(options: WalkOptions = {}): Generator<[Buffer, Buffer]> {
    if (walksByBatch(this, 'lookup')) {
      yield* batchWalk(this, 'lookup', options.batchSize ?? defaultBatchSize(this), options.lock);
      return;
    }
    for (const key of walkKeys(this)) {
      const value = this.lookup(key, options);
      if (value) yield [key, value];
    }
  }

  /**
   * Take every element out, yielding each: BPF_MAP_LOOKUP_AND_DELETE_BATCH where the kernel has it,
   * else one lookup-and-delete per key (lookup then delete before 5.14); queues and stacks pop.
   */
  *drain(options: WalkOptions = {}): Generator<[Buffer, Buffer]> {
    if (ARRAYS.has(this.type)) throw new UsageError('NOT_SUPPORTED', `${this.what}: an array's elements cannot be deleted, so it cannot be drained`, { hint: 'read it with entries() and zero what you read with update()' });
    if (QUEUES.has(this.type)) {
      for (let v = this.pop(); v; v = this.pop()) yield [Buffer.alloc(0), v];
      return;
    }
    if (walksByBatch(this, 'lookup_and_delete')) {
      yield* batchWalk(this, 'lookup_and_delete', options.batchSize ?? defaultBatchSize(this), options.lock);
      return;
    }
    for (;;) {
      const page = batchPage(this, 'lookup_and_delete', undefined, options.batchSize ?? defaultBatchSize(this), options.lock);
      if (page.entries.length === 0) return;
      yield* page.entries;
    }
  }

  /**
   * One page of a walk (BPF_MAP_LOOKUP_BATCH, or element by element where the kernel lacks it): up
   * to `count` entries from `cursor`, and the cursor to go on from (undefined at the end).
   */
  lookupBatch(options: BatchOptions = {}): BatchPage {
    return this.#locked(options.lock, () => batchPage(this, 'lookup', options.cursor, options.count ?? defaultBatchSize(this), options.lock));
  }

  /** As lookupBatch, deleting what it returns (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatch(options: BatchOptions = {}): BatchPage {
    return this.#locked(options.lock, () => batchPage(this, 'lookup_and_delete', options.cursor, options.count ?? defaultBatchSize(this), options.lock));
  }

  /**
   * Set many [key, value]s: one BPF_MAP_UPDATE_BATCH where the kernel has it, else one update each
   * (also with NOEXIST or EXIST, which the kernel's batch command does not take).
   * A refusal names the element it stopped at (those before it are written). Returns how many.
   */
  updateBatch(entries: Iterable<readonly [Buffer, Buffer]>, flags: number = UpdateFlag.ANY): number {
    const list = [...entries];
    for (const [k, v] of list) { this.#checkKey(k); this.#checkValue(v); }
    return updateBatch(this, list.map(([k]) => k), list.map(([, v]) => v), flags);
  }

  /** Delete many keys: one BPF_MAP_DELETE_BATCH where the kernel has it, else one delete each. Returns how many were there. */
  deleteBatch(keys: Iterable<Buffer>): number {
    const list = [...keys];
    for (const k of list) this.#checkKey(k);
    return deleteBatch(this, list);
  }

  /**
   * This map with JS keys and values, encoded from its BTF types: those the loader recorded from
   * the object, else those the kernel kept (maps opened by fromPin/fromFd that were created with
   * BTF). A map without BTF types is a UsageError (NOT_SUPPORTED).
   */
  typed<K = unknown, V = unknown, KIn = K, VIn = V>(): TypedMap<K, V, KIn, VIn> {
    const types = recordedMapBtfTypes(this) ?? kernelMapBtfTypes(this.info(), this.what);
    return new TypedMap<K, V, KIn, VIn>(this, mapCodecs(this, types));
  }

  /** Number of keys now (walks the map). */
  count(): number {
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }

  info(): MapInfo {
    return mapInfo(this.#fd, this.what);
  }

  /** Pin at `path` (on bpffs; /sys/fs/bpf is mounted if needed). */
  pin(path: string): void {
    const { path: abs } = preparePinPath(path, this.what);
    objPin(this.#fd, abs, this.what);
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
