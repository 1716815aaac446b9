// TypedMap: a BpfMap whose keys and values are plain JS values, encoded and decoded from the map's
// BTF types (btf/shape.ts has the rules, btf/codec.ts the checks). Opt-in per map: map.typed().
// Per-CPU maps take and give one value per possible CPU (an array).
import { codecOfShape, type Codec } from '../btf/codec.js';
import { shapeOf, shapeSize, type Shape } from '../btf/shape.js';
import { UsageError } from '../errors.js';
import { possibleCpus } from '../sys/cpus.js';
import { MapType, UpdateFlag } from '../uapi/enums.js';
import type { BpfMap, LookupOptions, WalkOptions } from './map.js';
import type { MapBtfTypes } from './map-btf.js';
import { joinPerCpu, splitPerCpu } from './percpu.js';

/** Map types keyed by a u32 index, whatever their BTF says. */
const INDEX_KEYED: ReadonlySet<number> = new Set([
  MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.ARRAY_OF_MAPS,
  MapType.DEVMAP, MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.REUSEPORT_SOCKARRAY,
]);
/** Map types whose values are fds in and ids (or cookies) out: a plain integer. */
const INTEGER_VALUED: ReadonlySet<number> = new Set([
  MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS,
  MapType.SOCKMAP, MapType.SOCKHASH, MapType.XSKMAP, MapType.REUSEPORT_SOCKARRAY,
]);

function integerShape(size: number): Shape | undefined {
  return size === 4 || size === 8 ? { kind: 'int', size, signed: false } : undefined;
}

/** What mapShapes needs of a map: a BpfMap, or a MapSpec with its `what`. */
export interface MapLayout {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly what: string;
}

/**
 * The shapes of a map's key and value from its BTF types (index-keyed and fd-valued map types fall
 * back to integers), checked against the map's sizes. Shared by typed() and the generator (gen).
 */
export function mapShapes(map: MapLayout, types: MapBtfTypes | undefined): { key: Shape; value: Shape } {
  const missing = (part: string) => new UsageError('NOT_SUPPORTED', `${map.what} has no BTF type for its ${part}${types ? ` in ${types.source}` : ' (no BTF: the map was created without it)'}`, {
    hint: 'declare it with __type(key, T) and __type(value, T) in an object built with clang -g (load() records the types), or read it with the Buffer API (lookup/update)',
  });
  let keyShape: Shape | undefined;
  if (map.keySize === 0) keyShape = { kind: 'void' };
  else if (types?.key) keyShape = shapeOf(types.btf, types.key, map.what, 'key');
  else if (INDEX_KEYED.has(map.type)) keyShape = integerShape(map.keySize);
  if (!keyShape) throw missing('key');
  let valueShape: Shape | undefined;
  if (types?.value) valueShape = shapeOf(types.btf, types.value, map.what, 'value');
  else if (INTEGER_VALUED.has(map.type)) valueShape = integerShape(map.valueSize);
  if (!valueShape) throw missing('value');
  for (const [part, shape, size] of [['key', keyShape, map.keySize], ['value', valueShape, map.valueSize]] as const) {
    if (shapeSize(shape) !== size) {
      throw new UsageError('MISMATCH', `${map.what}: its ${part} type in ${types?.source ?? 'BTF'} is ${shapeSize(shape)} bytes, but the map's ${part} size is ${size}`, { hint: 'the BTF is not the one the map was made from: load the map from its own object' });
    }
  }
  return { key: keyShape, value: valueShape };
}

/** The key and value codecs of `map` from its BTF types (per-CPU values as arrays). */
export function mapCodecs(map: BpfMap, types: MapBtfTypes | undefined): { key: Codec; value: Codec } {
  const shapes = mapShapes(map, types);
  const key = codecOfShape(shapes.key, map.what, 'key');
  const value = codecOfShape(shapes.value, map.what, 'value');
  return { key, value: map.perCpu ? perCpuCodec(value, map.valueSize, possibleCpus(), map.what) : value };
}

/** One value per possible CPU, each in its 8-byte-aligned slot. */
function perCpuCodec(one: Codec, valueSize: number, cpus: number, what: string): Codec {
  const codec: Codec<unknown[]> = {
    size: Math.ceil(valueSize / 8) * 8 * cpus,
    shape: one.shape,
    decode: (buf, offset = 0) => splitPerCpu(buf.subarray(offset), valueSize, cpus).map((b) => one.decode(b)),
    encode: (values) => {
      if (!Array.isArray(values) || values.length !== cpus) {
        throw new UsageError('BAD_ARGUMENT', `${what}: a per-CPU value is an array of one value per possible CPU (${cpus}), got ${Array.isArray(values) ? `${values.length}` : typeof values}`);
      }
      return joinPerCpu(values.map((v) => one.encode(v)), valueSize, cpus, what);
    },
    encodeInto: (values, buf, offset = 0) => { codec.encode(values).copy(buf, offset); },
  };
  return codec as Codec;
}

/**
 * A map with typed keys and values. K and V are what it gives (get, entries), KIn and VIn what it
 * takes (set, delete): they differ only for unions, which take one member. Keys and values are
 * plain objects, numbers, bigints, strings and arrays; see the README for the rules.
 */
export class TypedMap<K = unknown, V = unknown, KIn = K, VIn = V> {
  /** The untyped map underneath (Buffers in and out). */
  readonly map: BpfMap;
  readonly key: Codec<K>;
  readonly value: Codec<V>;

  constructor(map: BpfMap, codecs: { key: Codec; value: Codec }) {
    this.map = map;
    this.key = codecs.key as Codec<K>;
    this.value = codecs.value as Codec<V>;
  }

  get name(): string { return this.map.name; }
  get what(): string { return this.map.what; }

  #k(key: KIn): Buffer {
    return this.key.encode(key as unknown as K);
  }

  #v(value: VIn): Buffer {
    return this.value.encode(value as unknown as V);
  }

  /** The value at `key`, or undefined. `lock`: read under the value's bpf_spin_lock (BPF_F_LOCK). */
  get(key: KIn, options: LookupOptions = {}): V | undefined {
    const b = this.map.lookup(this.#k(key), options);
    return b && this.value.decode(b);
  }

  has(key: KIn): boolean {
    return this.map.lookup(this.#k(key)) !== undefined;
  }

  /** Set `key` to `value`. flags: UpdateFlag.ANY (default), NOEXIST, EXIST, with LOCK or'ed in for spin-locked values. */
  set(key: KIn, value: VIn, flags: number = UpdateFlag.ANY): this {
    this.map.update(this.#k(key), this.#v(value), flags);
    return this;
  }

  /** Delete `key`: true if it was there. */
  delete(key: KIn): boolean {
    return this.map.delete(this.#k(key));
  }

  /** Take the value at `key` out of a hash map in one step (Linux 5.14+). */
  lookupAndDelete(key: KIn, options: LookupOptions = {}): V | undefined {
    const b = this.map.lookupAndDelete(this.#k(key), options);
    return b && this.value.decode(b);
  }

  /** Queue/stack: add a value (flags UpdateFlag.EXIST replaces the oldest when full). */
  push(value: VIn, flags: number = UpdateFlag.ANY): this {
    this.map.push(this.#v(value), flags);
    return this;
  }

  /** Queue/stack: take the next value out, or undefined when empty. */
  pop(): V | undefined {
    const b = this.map.pop();
    return b && this.value.decode(b);
  }

  /** Queue/stack: the next value, left in. */
  peek(): V | undefined {
    const b = this.map.peek();
    return b && this.value.decode(b);
  }

  *keys(): Generator<K> {
    for (const k of this.map.keys()) yield this.key.decode(k);
  }

  *values(options: WalkOptions = {}): Generator<V> {
    for (const [, v] of this.map.entries(options)) yield this.value.decode(v);
  }

  /** Every [key, value], by batch where the kernel has it. */
  *entries(options: WalkOptions = {}): Generator<[K, V]> {
    for (const [k, v] of this.map.entries(options)) yield [this.key.decode(k), this.value.decode(v)];
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }

  /** Take every element out (lookup-and-delete by batch where the kernel has it; queues and stacks pop). */
  *drain(options: WalkOptions = {}): Generator<[K, V]> {
    for (const [k, v] of this.map.drain(options)) yield [this.key.decode(k), this.value.decode(v)];
  }

  /** Set many elements (one BPF_MAP_UPDATE_BATCH where the kernel has it). Returns how many. */
  setMany(entries: Iterable<readonly [KIn, VIn]>, flags: number = UpdateFlag.ANY): number {
    const list = [...entries].map(([k, v]) => [this.#k(k), this.#v(v)] as [Buffer, Buffer]);
    return this.map.updateBatch(list, flags);
  }

  /** Delete many keys (one BPF_MAP_DELETE_BATCH where the kernel has it). Returns how many were there. */
  deleteMany(keys: Iterable<KIn>): number {
    return this.map.deleteBatch([...keys].map((k) => this.#k(k)));
  }

  count(): number {
    return this.map.count();
  }
}
