// A map in the kernel, by its fd. Keys and values are Buffers; sizes are checked here so that a
// wrong-sized key names the map instead of surfacing as EFAULT or garbage.
import { enumName, MapType, UpdateFlag } from '../sys/constants.js';
import { mapDelete, mapLookup, mapNextKey, mapUpdate, objGet, objPin } from '../sys/commands.js';
import { Fd, closeOnThrow } from '../sys/fd.js';
import { mapInfo, type MapInfo } from '../sys/info.js';
import { preparePinPath } from '../sys/bpffs.js';
import { possibleCpus } from '../sys/cpus.js';

const PER_CPU_TYPES: Set<number> = new Set([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE]);

export class BpfMap {
  readonly #fd: Fd;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  /** The value size of one element (for per-CPU maps: of one CPU's slot). */
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;

  /** Wrap an fd this map now owns. Prefer BpfMap.fromPin / fromFd; load() builds these for you. */
  constructor(fd: Fd, info: Pick<MapInfo, 'name' | 'type' | 'keySize' | 'valueSize' | 'maxEntries' | 'flags'>) {
    this.#fd = fd;
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
  }

  /** Take ownership of `fd` and read what the kernel says about it. */
  static fromFd(fd: Fd, name?: string): BpfMap {
    return closeOnThrow(fd, (f) => {
      const info = mapInfo(f, `map ${name ?? `fd ${f.value}`}`);
      return new BpfMap(f, { ...info, name: name ?? info.name });
    });
  }

  /** Open a map pinned at `path`. */
  static fromPin(path: string): BpfMap {
    const fd = objGet(path, 'pinned map');
    return BpfMap.fromFd(fd);
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

  #what(): string {
    return `map ${this.name} (${enumName(MapType, this.type)})`;
  }

  #checkKey(key: Buffer): void {
    if (!Buffer.isBuffer(key) || key.length !== this.keySize) {
      throw new RangeError(`${this.#what()}: key must be a Buffer of ${this.keySize} bytes, got ${Buffer.isBuffer(key) ? key.length + ' bytes' : typeof key}`);
    }
  }

  /** The value for `key`, or undefined when absent. Per-CPU maps: all CPUs' slots, concatenated. */
  lookup(key: Buffer): Buffer | undefined {
    this.#checkKey(key);
    return mapLookup(this.#fd, key, this.lookupSize, this.#what());
  }

  /** Per-CPU maps: the value for `key` split into one Buffer per possible CPU. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    if (!this.perCpu) throw new TypeError(`${this.#what()} is not a per-CPU map: use lookup()`);
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
    const expected = this.perCpu ? this.lookupSize : this.valueSize;
    if (!Buffer.isBuffer(value) || (!sockMap && value.length !== expected)) {
      throw new RangeError(`${this.#what()}: value must be a Buffer of ${expected} bytes${this.perCpu ? ' (one 8-byte-aligned slot per possible CPU)' : ''}, got ${Buffer.isBuffer(value) ? value.length + ' bytes' : typeof value}`);
    }
    mapUpdate(this.#fd, key, value, flags, this.#what());
  }

  /** Delete `key`: true if it was there. */
  delete(key: Buffer): boolean {
    this.#checkKey(key);
    return mapDelete(this.#fd, key, this.#what());
  }

  /** Every key, in the kernel's iteration order. */
  *keys(): Generator<Buffer> {
    let key = mapNextKey(this.#fd, undefined, this.keySize, this.#what());
    // Bounded: a hash map being changed while we walk it can restart from the first key.
    for (let n = 0; key && n <= this.maxEntries * 2 + 16; n++) {
      yield key;
      key = mapNextKey(this.#fd, key, this.keySize, this.#what());
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
    return mapInfo(this.#fd, this.#what());
  }

  /** Pin at `path` (on bpffs; /sys/fs/bpf is mounted if needed). */
  pin(path: string): void {
    const abs = preparePinPath(path, this.#what());
    objPin(this.#fd, abs, this.#what());
  }

  close(): void {
    this.#fd.close();
  }
}
