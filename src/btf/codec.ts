// Decoding bytes into plain JS values and encoding them back, by a Shape (shape.ts has the rules of
// what JS value stands for each BTF type). Encoding is strict, so a wrong value names the map and the
// field instead of becoming wrong bytes: a struct needs every member (union members are optional),
// unknown members, out-of-range numbers, unknown enum names and arrays of the wrong length are
// refused; padding and kernel-managed fields are written as zeroes.
//
// Strings: a char array decodes to the UTF-8 text before its first NUL (all N bytes when there is
// none; invalid UTF-8 becomes U+FFFD, so binary data in a char array is better read with the Buffer
// API). Encoding writes the UTF-8 bytes and zero-fills the rest; a string longer than N bytes, or one
// with a NUL inside, is refused. Exactly N bytes (no terminating NUL) is accepted, as C allows.
// Pure: no syscalls.
import { UsageError } from '../errors.js';
import { intName, shapeOf, shapeSize, type BtfTypes, type FieldShape, type RecordShape, type Shape } from './shape.js';

export interface Codec<T = unknown> {
  /** Bytes of one encoded value. */
  readonly size: number;
  readonly shape: Shape;
  decode(buf: Buffer, offset?: number): T;
  /** A new Buffer of `size` bytes holding `value` (padding zeroed). */
  encode(value: T): Buffer;
  /** Write `value` at `offset` of `buf` (the caller zeroed those bytes). */
  encodeInto(value: T, buf: Buffer, offset?: number): void;
}

/** A codec for BTF type `typeId`. `what` names the owner ("map flows"), `root` the part ("key", "value"). */
export function codecFor<T = unknown>(btf: BtfTypes, typeId: number, what: string, root: string): Codec<T> {
  return codecOfShape<T>(shapeOf(btf, typeId, what, root), what, root);
}

export function codecOfShape<T = unknown>(shape: Shape, what: string, root: string): Codec<T> {
  const size = shapeSize(shape);
  const encodeInto = (value: T, buf: Buffer, offset = 0): void => {
    const w = new Writer(buf, offset, size, what);
    w.write(shape, value, offset * 8, root);
  };
  return {
    size,
    shape,
    decode: (buf, offset = 0) => {
      if (offset + size > buf.length) throw new UsageError('BAD_ARGUMENT', `${what}: ${root} needs ${size} bytes, got ${buf.length - offset}`);
      return read(shape, buf, offset * 8) as T;
    },
    encode: (value) => {
      const buf = Buffer.alloc(size);
      encodeInto(value, buf, 0);
      return buf;
    },
    encodeInto,
  };
}

// ---- decoding ----

function read(s: Shape, buf: Buffer, bit: number): unknown {
  const at = bit >>> 3;
  switch (s.kind) {
    case 'int': return readInt(buf, at, s.size, s.signed);
    case 'bool': return readInt(buf, at, s.size, false) !== 0;
    case 'float': return s.size === 4 ? buf.readFloatLE(at) : buf.readDoubleLE(at);
    case 'pointer': return buf.readBigUInt64LE(at);
    case 'enum': return enumValue(s, readInt(buf, at, s.size, s.signed));
    case 'string': {
      const end = buf.indexOf(0, at);
      return buf.toString('utf8', at, end < 0 || end > at + s.size ? at + s.size : end);
    }
    case 'array': {
      const out = new Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = read(s.element, buf, bit + i * s.stride * 8);
      return out;
    }
    case 'struct': case 'union': {
      const out: Record<string, unknown> = {};
      for (const f of s.fields) out[f.name] = f.bitSize ? readBitfield(f, buf, bit + f.bitOffset) : read(f.shape, buf, bit + f.bitOffset);
      return out;
    }
    case 'void': return undefined;
  }
}

function readInt(buf: Buffer, at: number, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1: return signed ? buf.readInt8(at) : buf.readUInt8(at);
    case 2: return signed ? buf.readInt16LE(at) : buf.readUInt16LE(at);
    case 4: return signed ? buf.readInt32LE(at) : buf.readUInt32LE(at);
    case 8: return signed ? buf.readBigInt64LE(at) : buf.readBigUInt64LE(at);
    default: {
      const raw = (buf.readBigUInt64LE(at + 8) << 64n) | buf.readBigUInt64LE(at);
      return signed ? BigInt.asIntN(128, raw) : raw;
    }
  }
}

function enumValue(s: Extract<Shape, { kind: 'enum' }>, raw: number | bigint): string | number | bigint {
  const v = BigInt(raw);
  for (const e of s.values) if (e.value === v || BigInt.asUintN(s.size * 8, e.value) === BigInt.asUintN(s.size * 8, v)) return e.name;
  return raw;
}

/** Little-endian bits [bit, bit+n) of `buf` as an unsigned bigint. */
function readBits(buf: Buffer, bit: number, n: number): bigint {
  let v = 0n;
  for (let i = (bit + n - 1) >>> 3; i >= bit >>> 3; i--) v = (v << 8n) | BigInt(buf[i]!);
  return (v >> BigInt(bit & 7)) & ((1n << BigInt(n)) - 1n);
}

function readBitfield(f: FieldShape, buf: Buffer, bit: number): unknown {
  const raw = readBits(buf, bit, f.bitSize);
  const s = f.shape;
  const signed = (s.kind === 'int' || s.kind === 'enum') && s.signed;
  const v = signed ? BigInt.asIntN(f.bitSize, raw) : raw;
  if (s.kind === 'bool') return v !== 0n;
  if (s.kind === 'enum') return enumValue(s, s.size > 4 ? v : Number(v));
  return s.kind === 'int' && s.size > 4 ? v : Number(v);
}

// ---- encoding ----

/** Writes one value, keeping a mask of the bits written so overlapping union members must agree. */
class Writer {
  readonly #buf: Buffer;
  readonly #mask: Buffer;
  readonly #base: number;
  readonly #what: string;

  constructor(buf: Buffer, offset: number, size: number, what: string) {
    if (offset + size > buf.length) throw new UsageError('BAD_ARGUMENT', `${what}: no room for ${size} bytes at offset ${offset} of a ${buf.length}-byte Buffer`);
    this.#buf = buf;
    this.#mask = Buffer.alloc(size);
    this.#base = offset;
    this.#what = what;
  }

  #bad(path: string, message: string): UsageError {
    return new UsageError('BAD_ARGUMENT', `${this.#what}: ${path} ${message}`);
  }

  write(s: Shape, v: unknown, bit: number, path: string): void {
    const at = bit >>> 3;
    switch (s.kind) {
      case 'int': return this.#bytes(at, intBytes(s.size, this.#integer(v, s.size * 8, s.signed, path, intName(s))), path);
      case 'bool': {
        if (typeof v !== 'boolean') throw this.#bad(path, `must be a boolean, got ${describe(v)}`);
        return this.#bytes(at, intBytes(s.size, v ? 1n : 0n), path);
      }
      case 'float': {
        if (typeof v !== 'number') throw this.#bad(path, `must be a number (${s.size === 4 ? 'float' : 'double'}), got ${describe(v)}`);
        const b = Buffer.alloc(s.size);
        if (s.size === 4) b.writeFloatLE(v); else b.writeDoubleLE(v);
        return this.#bytes(at, b, path);
      }
      case 'pointer': return this.#bytes(at, intBytes(8, this.#integer(v, 64, false, path, 'a pointer (u64)')), path);
      case 'enum': return this.#bytes(at, intBytes(s.size, this.#enumRaw(s, v, s.size * 8, path)), path);
      case 'string': {
        if (typeof v !== 'string') throw this.#bad(path, `must be a string (char[${s.size}]), got ${describe(v)}`);
        const b = Buffer.from(v, 'utf8');
        if (b.includes(0)) throw this.#bad(path, 'must not contain a NUL character (it would end the C string)');
        if (b.length > s.size) throw this.#bad(path, `is ${b.length} bytes in UTF-8, but char[${s.size}] holds at most ${s.size}`);
        const out = Buffer.alloc(s.size);
        b.copy(out);
        return this.#bytes(at, out, path);
      }
      case 'array': {
        const isList = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView) && s.element.kind === 'int' && s.element.size <= 4);
        if (!isList) throw this.#bad(path, `must be an array of ${s.length}, got ${describe(v)}`);
        const list = v as ArrayLike<unknown>;
        if (list.length !== s.length) throw this.#bad(path, `must have exactly ${s.length} elements, got ${list.length}`);
        for (let i = 0; i < s.length; i++) this.write(s.element, list[i], bit + i * s.stride * 8, `${path}[${i}]`);
        return;
      }
      case 'struct': case 'union': return this.#record(s, v, bit, path);
      case 'void': return;
    }
  }

  #record(s: RecordShape, v: unknown, bit: number, path: string): void {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) {
      throw this.#bad(path, `must be an object with ${fieldList(s)}, got ${describe(v)}`);
    }
    const obj = v as Record<string, unknown>;
    const known = new Set(s.fields.map((f) => f.name));
    for (const k of Object.keys(obj)) {
      if (known.has(k) || obj[k] === undefined) continue;
      if (s.hidden.includes(k)) throw this.#bad(`${path}.${k}`, 'is managed by the kernel (a spin lock, timer or kptr): leave it out; it is written as zeroes');
      throw this.#bad(path, `has no member ${k} (${fieldList(s)})`);
    }
    let given = 0;
    for (const f of s.fields) {
      const fv = obj[f.name];
      const fpath = `${path}.${f.name}`;
      if (fv === undefined) {
        if (!f.alternative) throw this.#bad(path, `is missing member ${f.name}`);
        continue;
      }
      given++;
      if (f.bitSize) this.#bitfield(f, fv, bit + f.bitOffset, fpath);
      else this.write(f.shape, fv, bit + f.bitOffset, fpath);
    }
    if (s.kind === 'union' && given === 0 && s.fields.length > 0) throw this.#bad(path, `is a union: give one of its members (${fieldList(s)})`);
  }

  #bitfield(f: FieldShape, v: unknown, bit: number, path: string): void {
    const s = f.shape;
    let raw: bigint;
    if (s.kind === 'enum') raw = this.#enumRaw(s, v, f.bitSize, path);
    else if (s.kind === 'bool') {
      if (typeof v !== 'boolean') throw this.#bad(path, `must be a boolean, got ${describe(v)}`);
      raw = v ? 1n : 0n;
    } else if (s.kind === 'int') raw = this.#integer(v, f.bitSize, s.signed, path, `${s.signed ? 'a signed' : 'an unsigned'} ${f.bitSize}-bit bitfield`);
    else throw this.#bad(path, `is a bitfield of a ${s.kind}, which cannot be written`);
    this.#bits(bit, f.bitSize, BigInt.asUintN(f.bitSize, raw), path);
  }

  /** An integer of `bits` bits from a number or bigint, range-checked. */
  #integer(v: unknown, bits: number, signed: boolean, path: string, kind: string): bigint {
    const n = this.#bigint(v, path, kind);
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    if (n < min || n > max) throw this.#bad(path, `must be an integer in ${min}..${max} (${kind}), got ${n}`);
    return n;
  }

  #bigint(v: unknown, path: string, kind: string): bigint {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) throw this.#bad(path, `${v} is not an integer a number holds exactly: use a bigint`);
      return BigInt(v);
    }
    throw this.#bad(path, `must be an integer (${kind}), got ${describe(v)}`);
  }

  #enumRaw(s: Extract<Shape, { kind: 'enum' }>, v: unknown, bits: number, path: string): bigint {
    const kind = `enum ${s.cName || '(anonymous)'}`;
    const names = s.values.map((x) => x.name).join(', ');
    if (typeof v === 'string') {
      const e = s.values.find((x) => x.name === v);
      if (!e) throw this.#bad(path, `must be one of ${names} (${kind}) or a number, got "${v}"`);
      return e.value;
    }
    if (typeof v !== 'number' && typeof v !== 'bigint') throw this.#bad(path, `must be a name of ${kind} (${names}) or a number, got ${describe(v)}`);
    // A number in either the signed or the unsigned range of the bits, as C takes enum values.
    const n = this.#bigint(v, path, kind);
    if (n < -(1n << BigInt(bits - 1)) || n > (1n << BigInt(bits)) - 1n) throw this.#bad(path, `${n} does not fit in ${bits} bits (${kind})`);
    return n;
  }

  /** Write whole bytes at byte `at` (absolute), checking overlaps with earlier writes agree. */
  #bytes(at: number, b: Buffer, path: string): void {
    const rel = at - this.#base;
    for (let i = 0; i < b.length; i++) {
      const m = this.#mask[rel + i]!;
      if (m && ((this.#buf[at + i]! ^ b[i]!) & m)) throw this.#conflict(path);
      this.#buf[at + i] = b[i]!;
      this.#mask[rel + i] = 0xff;
    }
  }

  #bits(bit: number, n: number, v: bigint, path: string): void {
    for (let i = 0; i < n; i++) {
      const b = bit + i;
      const at = b >>> 3;
      const rel = at - this.#base;
      const bitMask = 1 << (b & 7);
      const want = Number((v >> BigInt(i)) & 1n) << (b & 7);
      if (this.#mask[rel]! & bitMask && (this.#buf[at]! & bitMask) !== want) throw this.#conflict(path);
      this.#buf[at] = (this.#buf[at]! & ~bitMask) | want;
      this.#mask[rel] = this.#mask[rel]! | bitMask;
    }
  }

  #conflict(path: string): UsageError {
    return this.#bad(path, 'overlaps another member of its union that was given a different value: give only one member of a union');
  }
}

function intBytes(size: number, n: bigint): Buffer {
  const b = Buffer.alloc(size);
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++, u >>= 8n) b[i] = Number(u & 0xffn);
  return b;
}

function fieldList(s: RecordShape): string {
  if (s.fields.length === 0) return 'no members';
  const names = s.fields.map((f) => f.name);
  return `member${names.length > 1 ? 's' : ''} ${names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ')}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'bigint') return `${v}n`;
  return `${typeof v} ${String(v)}`;
}
