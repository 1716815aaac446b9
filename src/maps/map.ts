// A map in the kernel, by its fd. Keys and values are Buffers; sizes are checked here so that a
// wrong-sized key names the map instead of surfacing as EFAULT or garbage.
import { UsageError } from '../errors.js';
import { preparePinPath } from '../sys/bpffs.js';
import { mapCreate, mapDelete, mapLookup, mapNextKey, mapUpdate, objGet, objPin } from '../sys/commands.js';
import { possibleCpus } from '../sys/cpus.js';
import { closeOnThrow, Fd } from '../sys/fd.js';
import { mapInfo, type MapInfo } from '../sys/info.js';
import { enumName, MapType, UpdateFlag } from '../uapi/enums.js';

const PER_CPU_TYPES: ReadonlySet<number> = new Set([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE]);

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
    return PER_CPU_TYPES.has(this.type);
  }

  /** Bytes a lookup returns: valueSize, or for per-CPU maps one 8-byte-aligned slot per possible CPU. */
  get lookupSize(): number {
    return this.perCpu ? Math.ceil(this.valueSize / 8) * 8 * possibleCpus() : this.valueSize;
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

  /** The value for `key`, or undefined when absent. Per-CPU maps: all CPUs' slots, concatenated. */
  lookup(key: Buffer): Buffer | undefined {
    this.#checkHasKeys();
    this.#checkKey(key);
    return mapLookup(this.#fd, key, Buffer.alloc(this.lookupSize), this.what);
  }

  /** Per-CPU maps: the value for `key` split into one Buffer per possible CPU. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    if (!this.perCpu) throw new UsageError('BAD_ARGUMENT', `${this.what} is not a per-CPU map: use lookup()`);
    const all = this.lookup(key);
    if (!all) return undefined;
    const slot = Math.ceil(this.valueSize / 8) * 8;
    const out: Buffer[] = [];
    for (let off = 0; off < all.length; off += slot) out.push(all.subarray(off, off + this.valueSize));
    return out;
  }

  /** Set `key` to `value`. flags: UpdateFlag.ANY (default), NOEXIST or EXIST. */
  update(key: Buffer, value: Buffer, flags: number = UpdateFlag.ANY): void {
    this.#checkKey(key);
    // SOCKMAP/SOCKHASH take a socket fd (u32 or u64) whatever their value size for lookups.
    const sockMap = this.type === MapType.SOCKMAP || this.type === MapType.SOCKHASH;
    const expected = this.lookupSize;
    if (!Buffer.isBuffer(value) || (!sockMap && value.length !== expected)) {
      throw new UsageError('BAD_ARGUMENT', `${this.what}: value must be a Buffer of ${expected} bytes${this.perCpu ? ' (one 8-byte-aligned slot per possible CPU)' : ''}, got ${Buffer.isBuffer(value) ? value.length + ' bytes' : typeof value}`);
    }
    mapUpdate(this.#fd, key, value, flags, this.what);
  }

  /** Delete `key`: true if it was there. */
  delete(key: Buffer): boolean {
    this.#checkKey(key);
    return mapDelete(this.#fd, key, this.what);
  }

  /** Every key, in the kernel's iteration order. */
  *keys(): Generator<Buffer> {
    this.#checkHasKeys();
    let key = mapNextKey(this.#fd, undefined, this.keySize, this.what);
    // Bounded: a hash map being changed while we walk it can restart from the first key.
    for (let n = 0; key && n <= this.maxEntries * 2 + 16; n++) {
      yield key;
      key = mapNextKey(this.#fd, key, this.keySize, this.what);
    }
  }

  /** Every [key, value]; entries deleted while walking are skipped. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) yield [key, value];
    }
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
