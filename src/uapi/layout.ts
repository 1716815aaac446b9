// Describing a kernel ABI struct once. A Layout lists every field we use of one struct (or of one
// command's part of `union bpf_attr`): its name as the kernel spells it, byte offset, size and how to
// read it. The same description encodes attrs, decodes info structs and narrates calls (--explain);
// test/kernel/abi.test.ts checks each offset and size against the running kernel's BTF.
// Pure: no syscalls; pointer fields get their addresses from a callback.
import { enumName, flagNames } from './enums.js';

export type FieldKind =
  /** Unsigned little-endian integers. u64 values decode as bigint. */
  | 'u8' | 'u16' | 'u32' | 'u64'
  /** A signed 32-bit integer. */
  | 's32'
  /** A u32 (or s32) holding a file descriptor; 0 means "none". */
  | 'fd'
  /** A u64 user pointer to a Buffer (NULL when absent). */
  | 'ptr'
  /** A u64 user pointer to a NUL-terminated string. */
  | 'str'
  /** An inline char[size] (object names), NUL-padded. */
  | 'name'
  /** Inline bytes (program tags), shown as hex. */
  | 'hex'
  /** Bit 0 of a u32 bitfield word (bpf_prog_info.gpl_compatible). */
  | 'bit0';

export interface Field<N extends string = string, K extends FieldKind = FieldKind> {
  /** The kernel's member name; members of named sub-structs are dotted ("perf_event.bpf_cookie"). */
  readonly name: N;
  readonly offset: number;
  readonly size: number;
  readonly kind: K;
  /** Decode the number as a name of this enum. */
  readonly enum?: Readonly<Record<string, number>>;
  /** Decode the number as names of these bits. */
  readonly flags?: Readonly<Record<string, number>>;
  /** Written by the kernel only (results): never encoded from values, not narrated as input. */
  readonly out?: boolean;
  /** Narrated even when zero (the fields that say what a call is about). */
  readonly always?: boolean;
  /** The first kernel release known to have it ("6.4"), for fields newer than our oldest supported
   * kernel: older kernels lack them (and reject a non-zero value: keep them zero there). */
  readonly since?: string;
}

/** Where the kernel's BTF describes a layout, for the offset check. */
export type BtfLocation =
  /** A named struct, e.g. "bpf_map_info". */
  | { readonly struct: string }
  /** A named member of union bpf_attr, e.g. "link_create". */
  | { readonly attrMember: string }
  /** The anonymous struct of union bpf_attr that has a member (at any depth of anonymous members) with this name. */
  | { readonly attrAnonymousWith: string };

export interface Layout<F extends Field = Field> {
  /** What it is, for messages: "BPF_MAP_CREATE attr", "struct bpf_map_info". */
  readonly title: string;
  readonly btf: BtfLocation;
  /** Bytes up to the end of the last field: the size given to the kernel. */
  readonly size: number;
  readonly fields: readonly F[];
  readonly byName: ReadonlyMap<string, F>;
}

/** What a field of kind K decodes to. */
export type Decodes<K extends FieldKind> = K extends 'u64' | 'ptr' | 'str' ? bigint : K extends 'name' | 'hex' ? string : number;
/** What a field of kind K takes when encoding. */
export type Takes<K extends FieldKind> =
  K extends 'u64' ? bigint | number : K extends 'ptr' ? Buffer | bigint : K extends 'str' | 'name' ? string : K extends 'hex' ? Buffer : number;

type FieldsOf<L> = L extends Layout<infer F> ? F : never;
/** The values an encoder takes for layout L: every field optional, typed by its kind. */
export type Values<L> = { readonly [E in FieldsOf<L> as E['name']]?: Takes<E['kind']> };
/** A decoded struct: every field by its kernel name. */
export type Decoded<L> = { [E in FieldsOf<L> as E['name']]: Decodes<E['kind']> };

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S extends `${infer H}.${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** A decoded struct with camelCase names; with a prefix ("cgroup."), only that union member's fields. */
export type CamelDecoded<L, P extends string = ''> = {
  [E in FieldsOf<L> as E['name'] extends `${P}${infer R}` ? Camel<R> : never]: Decodes<E['kind']>
};

type Extra = Partial<Pick<Field, 'enum' | 'flags' | 'out' | 'always' | 'since'>>;
const SIZE: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, fd: 4, ptr: 8, str: 8, name: 16, hex: 8, bit0: 4 };

/** A field of `kind` at `offset`; `size` only for the inline kinds (name, hex) when not the default. */
export function field<const N extends string, const K extends FieldKind>(name: N, offset: number, kind: K, extra: Extra & { size?: number } = {}): Field<N, K> {
  const { size, ...rest } = extra;
  return { name, offset, kind, size: size ?? SIZE[kind], ...rest };
}

/** Build a layout; its size is the end of its last field. */
export function layout<const F extends readonly Field[]>(title: string, btf: BtfLocation, fields: F): Layout<F[number]> {
  const size = Math.max(...fields.map((f) => f.offset + f.size));
  const byName = new Map<string, F[number]>(fields.map((f) => [f.name, f] as const));
  if (byName.size !== fields.length) throw new Error(`layout ${title}: two fields share a name`);
  return { title, btf, size, fields, byName };
}

/**
 * Write `values` into `buf` (zeroed by the caller, at least `layout.size` bytes). Pointer fields take
 * a Buffer (its address comes from `addressOf`, which must keep it alive) or a raw bigint address;
 * 'str' fields take a string. A value for a field the layout does not have is a bug: it throws.
 */
export function encodeInto<L extends Layout>(layout: L, values: Values<L>, buf: Buffer, addressOf: (b: Buffer) => bigint): void {
  for (const [name, value] of Object.entries(values) as [string, FieldValue][]) {
    if (value === undefined) continue;
    const f = layout.byName.get(name);
    if (!f) throw new Error(`${layout.title} has no field ${name}`);
    if (f.out) throw new Error(`${layout.title}: ${name} is written by the kernel, not by us`);
    const at = f.offset;
    switch (f.kind) {
      case 'u8': buf.writeUInt8(num(f, value) & 0xff, at); break;
      case 'u16': buf.writeUInt16LE(num(f, value) & 0xffff, at); break;
      case 'u32': case 'fd': buf.writeUInt32LE(num(f, value) >>> 0, at); break;
      case 's32': buf.writeInt32LE(num(f, value) | 0, at); break;
      case 'bit0': buf.writeUInt32LE((buf.readUInt32LE(at) & ~1) | (num(f, value) & 1), at); break;
      case 'u64': buf.writeBigUInt64LE(BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(num(f, value))), at); break;
      case 'ptr': {
        if (typeof value === 'bigint') buf.writeBigUInt64LE(value, at);
        else if (Buffer.isBuffer(value)) { if (value.length > 0) buf.writeBigUInt64LE(addressOf(value), at); }
        else throw new Error(`${layout.title}: ${name} takes a Buffer`);
        break;
      }
      case 'str': {
        if (typeof value !== 'string') throw new Error(`${layout.title}: ${name} takes a string`);
        buf.writeBigUInt64LE(addressOf(Buffer.from(value + '\0', 'utf8')), at);
        break;
      }
      case 'name': {
        if (typeof value !== 'string') throw new Error(`${layout.title}: ${name} takes a string`);
        buf.write(value.slice(0, f.size - 1), at, 'latin1');
        break;
      }
      case 'hex': {
        if (!Buffer.isBuffer(value)) throw new Error(`${layout.title}: ${name} takes a Buffer`);
        value.copy(buf, at, 0, f.size);
        break;
      }
    }
  }
}

type FieldValue = number | bigint | string | Buffer | undefined;

function num(f: Field, value: FieldValue): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new Error(`field ${f.name} takes a number`);
}

/** Read one field. Bytes past the end of `buf` (an older kernel's shorter struct) read as zero. */
export function readField(f: Field, buf: Buffer): number | bigint | string {
  if (f.offset + f.size > buf.length) return f.kind === 'u64' || f.kind === 'ptr' || f.kind === 'str' ? 0n : f.kind === 'name' || f.kind === 'hex' ? '' : 0;
  const at = f.offset;
  switch (f.kind) {
    case 'u8': return buf.readUInt8(at);
    case 'u16': return buf.readUInt16LE(at);
    case 'u32': case 'fd': return buf.readUInt32LE(at);
    case 's32': return buf.readInt32LE(at);
    case 'bit0': return buf.readUInt32LE(at) & 1;
    case 'u64': case 'ptr': case 'str': return buf.readBigUInt64LE(at);
    case 'name': {
      const raw = buf.subarray(at, at + f.size);
      const end = raw.indexOf(0);
      return raw.toString('latin1', 0, end < 0 ? f.size : end);
    }
    case 'hex': return buf.toString('hex', at, at + f.size);
  }
}

/** Every field (or those under `prefix`, e.g. "cgroup.") of a struct the kernel filled, by name. */
export function decode<L extends Layout>(layout: L, buf: Buffer): Decoded<L> {
  const out: Record<string, number | bigint | string> = {};
  for (const f of layout.fields) out[f.name] = readField(f, buf);
  return out as Decoded<L>;
}

/** The fields under `prefix` ("" for all, "cgroup." for one union member), camelCased: key_size → keySize. */
export function decodeCamel<L extends Layout, P extends string = ''>(layout: L, buf: Buffer, prefix?: P): CamelDecoded<L, P> {
  const out: Record<string, number | bigint | string> = {};
  for (const [f, name] of camelFields(layout, prefix ?? '')) out[name] = readField(f, buf);
  return out as CamelDecoded<L, P>;
}

// The camelCased names of a layout's fields under a prefix, computed once: info() decodes every
// program, map and link `up` and `status` touch, and the regex per field per call showed in profiles.
const camelCache = new WeakMap<Layout, Map<string, readonly (readonly [Field, string])[]>>();
function camelFields(layout: Layout, prefix: string): readonly (readonly [Field, string])[] {
  let byPrefix = camelCache.get(layout);
  if (!byPrefix) camelCache.set(layout, (byPrefix = new Map()));
  let fields = byPrefix.get(prefix);
  if (!fields) {
    fields = layout.fields.filter((f) => f.name.startsWith(prefix)).map((f) => [f, camel(f.name.slice(prefix.length))] as const);
    byPrefix.set(prefix, fields);
  }
  return fields;
}

function camel(s: string): string {
  return s.replace(/[_.]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The input fields of an attr for narration: "map_type=SOCKHASH key_size=48 …". Zero fields are left
 * out unless marked `always`; `pointee` gives the Buffer a pointer field points at, when known.
 */
export function describe(layout: Layout, buf: Buffer, pointee?: (address: bigint) => Buffer | undefined): string {
  const parts: string[] = [];
  const seen = new Set<number>();
  for (const f of layout.fields) {
    if (f.out) continue;
    const v = readField(f, buf);
    const zero = v === 0 || v === 0n || v === '';
    // Aliases share an offset (a union): the first name that has a value speaks for it.
    if ((zero && !f.always) || seen.has(f.offset)) continue;
    seen.add(f.offset);
    parts.push(`${f.name}=${show(f, v, pointee)}`);
  }
  return parts.join(' ');
}

function show(f: Field, v: number | bigint | string, pointee?: (address: bigint) => Buffer | undefined): string {
  if (f.enum && typeof v === 'number') return enumName(f.enum, v);
  if (f.flags && typeof v === 'number') return flagNames(f.flags, v);
  if (f.flags && typeof v === 'bigint' && v <= 0xffffffffn) return flagNames(f.flags, Number(v));
  switch (f.kind) {
    case 'name': return JSON.stringify(v);
    case 'str': {
      const b = typeof v === 'bigint' ? pointee?.(v) : undefined;
      if (!b) return v === 0n ? 'NULL' : '"?"';
      const end = b.indexOf(0);
      return JSON.stringify(b.toString('utf8', 0, end < 0 ? b.length : end));
    }
    case 'ptr': {
      const b = typeof v === 'bigint' ? pointee?.(v) : undefined;
      return b ? `${b.length} bytes` : v === 0n ? 'NULL' : `0x${v.toString(16)}`;
    }
    default: return String(v);
  }
}
