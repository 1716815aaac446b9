// LazyBtf: a big BTF (the kernel's, 5.5 MB, ~150k types) indexed without decoding it. Opening it does
// one tight pass over the type section to learn where each type starts and its name offset; a type is
// decoded only when asked for (and then cached), and names are found by searching the string section
// for the name itself, so looking up a few structs costs a few milliseconds, not a full decode.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ObjectError } from '../errors.js';
import { readCString } from '../elf/strings.js';
import { checkTypeReferences, decodeBtfHeader, decodeTypeAt } from './decode.js';
import { BtfKind, type BtfHeader, type BtfType } from './kinds.js';

/** Extra bytes after the 12-byte header, by kind (vlen = number of members/values/params/vars). */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT: case BtfKind.VAR: case BtfKind.DECL_TAG: return 4;
    case BtfKind.ARRAY: return 12;
    case BtfKind.STRUCT: case BtfKind.UNION: case BtfKind.DATASEC: case BtfKind.ENUM64: return 12 * vlen;
    case BtfKind.ENUM: case BtfKind.FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}

export class LazyBtf {
  readonly file: string;
  readonly section: string;
  readonly header: BtfHeader;
  readonly strings: Buffer;
  /** Number of type ids, void (0) included (for split BTF: the base's ids too). */
  readonly count: number;
  /** Split BTF (a kernel module's): the BTF its ids and strings continue (vmlinux). */
  readonly base?: LazyBtf;
  /** The first id of this BTF's own types: 1, or base.count for split BTF. */
  readonly startId: number;
  /** The first string offset of this BTF's own strings: 0, or the base's string section size. */
  private readonly strStart: number;
  private readonly buf: Buffer;
  private readonly typeEnd: number;
  /** Byte offset in `buf` of each type's header, by id. */
  private readonly offsets: Uint32Array;
  /** name_off of each type, by id (what name searches compare against). */
  private readonly nameOffs: Uint32Array;
  /** Kind of each type, by id. */
  private readonly kinds: Uint8Array;
  private readonly decoded: (BtfType | undefined)[];
  private readonly byName = new Map<string, number[]>();
  private readonly names = new Map<number, string>();

  private constructor(buf: Buffer, file: string, section: string, base?: LazyBtf, index?: TypeIndex) {
    this.file = file;
    this.section = section;
    this.base = base;
    this.startId = base ? base.count : 1;
    this.strStart = base ? base.strings.length : 0;
    const { header, typeStart, typeEnd, strings } = decodeBtfHeader(buf, file, section, !!base);
    this.buf = buf;
    this.header = header;
    this.strings = strings;
    this.typeEnd = typeEnd;
    if (!index) {
      index = new TypeIndex(buf, typeStart, typeEnd, header.typeLen, (m, o) => this.fail(m, o));
      index.step(Infinity);
    }
    const id = index.id;
    this.count = id - 1 + this.startId;
    this.offsets = index.offsets;
    this.nameOffs = index.nameOffs;
    this.kinds = index.kinds;
    this.decoded = new Array(id);
    this.decoded[0] = { id: 0, kind: BtfKind.UNKN, name: '', nameOff: 0, kindFlag: false };
  }

  static parse(buf: Buffer, file: string, section = '.BTF'): LazyBtf {
    return new LazyBtf(buf, file, section);
  }

  /** Split BTF on `base` (a module's BTF on vmlinux's): its ids and string offsets continue the base's. */
  static parseSplit(buf: Buffer, base: LazyBtf, file: string, section = 'BTF'): LazyBtf {
    return new LazyBtf(buf, file, section, base);
  }

  /**
   * read() without blocking the event loop for long: the file is read asynchronously and the type
   * section indexed in slices of `slice` types, yielding to the event loop between them.
   */
  static async readAsync(path: string, slice = 16384): Promise<LazyBtf> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (e) {
      throw new ObjectError(path, `cannot read kernel BTF: ${(e as Error).message} (the kernel needs CONFIG_DEBUG_INFO_BTF=y for /sys/kernel/btf/vmlinux; or pass btfPath to a BTF file for this kernel)`);
    }
    const { header, typeStart, typeEnd } = decodeBtfHeader(buf, path, 'BTF', false);
    const index = new TypeIndex(buf, typeStart, typeEnd, header.typeLen, (message, offset) => {
      throw new ObjectError(path, message, { section: 'BTF', offset });
    });
    while (!index.step(slice)) await new Promise<void>((resolve) => setImmediate(resolve));
    return new LazyBtf(buf, path, 'BTF', undefined, index);
  }

  static read(path: string): LazyBtf {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new ObjectError(path, `cannot read kernel BTF: ${(e as Error).message} (the kernel needs CONFIG_DEBUG_INFO_BTF=y for /sys/kernel/btf/vmlinux; or pass btfPath to a BTF file for this kernel)`);
    }
    return new LazyBtf(buf, path, 'BTF');
  }

  /** The type with this id, decoded on first use. */
  type(id: number): BtfType {
    if (this.base && id < this.startId) return this.base.type(id);
    const i = id - this.startId + 1;
    const known = this.decoded[i];
    if (known) return known;
    if (!Number.isInteger(id) || id < 0 || id >= this.count) this.fail(`type id ${id} does not exist (${this.count} types)`, 0);
    const fail = (message: string, offset: number): never => this.fail(message, offset);
    const { type } = decodeTypeAt(this.buf, this.offsets[i]!, this.typeEnd, id, (off, at) => this.nameAt(off, at), fail);
    checkTypeReferences(type, this.count, (message) => this.fail(message, this.offsets[i]!));
    this.decoded[i] = type;
    return type;
  }

  /** The kind of a type without decoding it. */
  kindOf(id: number): number {
    if (this.base && id < this.startId) return this.base.kindOf(id);
    return id === 0 ? 0 : this.kinds[id - this.startId + 1]!;
  }

  string(off: number): string {
    return this.nameAt(off, 0);
  }

  /**
   * Ids of the types whose name, with any "___flavour" suffix dropped, is `essential` (libbpf's
   * candidate rule), in id order. Found by searching the string section, then the name offsets.
   * For split BTF: its own types only (libbpf's btf__find_by_name_kind_own), named by its own
   * strings or the base's.
   */
  idsByEssentialName(essential: string): number[] {
    const cached = this.byName.get(essential);
    if (cached) return cached;
    const offs = new Set<number>();
    if (essential) {
      const pattern = Buffer.from('\0' + essential);
      const s = this.strings;
      for (let i = s.indexOf(pattern); i >= 0; i = s.indexOf(pattern, i + 1)) {
        const start = i + 1;
        const after = start + pattern.length - 1;
        if (s[after] === 0) offs.add(start + this.strStart);
        else if (s[after] === 0x5f && s[after + 1] === 0x5f && s[after + 2] === 0x5f && essentialLength(this.nameAt(start + this.strStart, 0)) === essential.length) offs.add(start + this.strStart);
      }
      // A split BTF's own string section may start without the empty string: a name at offset 0.
      if (this.base && s.length >= pattern.length - 1 && s.subarray(0, pattern.length - 1).equals(pattern.subarray(1))) {
        const after = pattern.length - 1;
        if (s[after] === 0) offs.add(this.strStart);
        else if (s[after] === 0x5f && essentialLength(this.nameAt(this.strStart, 0)) === essential.length) offs.add(this.strStart);
      }
      // Split BTF: own types may be named by the base's strings.
      if (this.base) {
        const bs = this.base.strings;
        for (let i = bs.indexOf(pattern); i >= 0; i = bs.indexOf(pattern, i + 1)) {
          const start = i + 1;
          const after = start + pattern.length - 1;
          if (bs[after] === 0) offs.add(start);
          else if (bs[after] === 0x5f && bs[after + 1] === 0x5f && bs[after + 2] === 0x5f && essentialLength(this.base.string(start)) === essential.length) offs.add(start);
        }
      }
    }
    const ids: number[] = [];
    const own = this.count - this.startId + 1;
    const shift = this.startId - 1;
    if (offs.size === 1) {
      const [want] = offs;
      const n = this.nameOffs;
      for (let i = 1; i < own; i++) if (n[i] === want) ids.push(i + shift);
    } else if (offs.size > 1) {
      const n = this.nameOffs;
      for (let i = 1; i < own; i++) if (offs.has(n[i]!)) ids.push(i + shift);
    }
    this.byName.set(essential, ids);
    return ids;
  }

  private nameAt(off: number, at: number): string {
    if (this.base && off < this.strStart) return this.base.string(off);
    let s = this.names.get(off);
    if (s === undefined) {
      const own = off - this.strStart;
      if (own >= this.strings.length) this.fail(`string offset ${off} is outside the BTF string section (${this.strings.length} bytes)`, at);
      s = readCString(this.strings, own, { file: this.file, section: this.section, what: `BTF name at offset ${at}` });
      this.names.set(off, s);
    }
    return s;
  }

  private fail(message: string, offset: number): never {
    throw new ObjectError(this.file, message, { section: this.section, offset });
  }
}

/** libbpf's bpf_core_essential_name_len: "task_struct___v2" → 11; a name without X___Y is whole. */
export function essentialLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return i + 1;
  }
  return name.length;
}

export function essentialName(name: string): string {
  return name.slice(0, essentialLength(name));
}

/**
 * Where each type of a BTF type section starts, its name offset and kind, by id: the one pass over
 * the section that opening a LazyBtf costs, resumable so it can run in slices.
 */
class TypeIndex {
  /** Arrays are indexed by id - startId + 1 (index 0 is void, or unused for split BTF). */
  readonly offsets: Uint32Array;
  readonly nameOffs: Uint32Array;
  readonly kinds: Uint8Array;
  /** The next id to index (when done: the number of own types + 1). */
  id = 1;
  private w = 0;
  private readonly words: Uint32Array;

  constructor(buf: Buffer, private readonly typeStart: number, private readonly typeEnd: number, typeLen: number,
    private readonly fail: (message: string, offset: number) => never) {
    const max = Math.floor(typeLen / 12) + 1;
    this.offsets = new Uint32Array(max);
    this.nameOffs = new Uint32Array(max);
    this.kinds = new Uint8Array(max);
    // Word access is much faster than readUInt32LE; the type section is 4-byte aligned in the file,
    // so a copy is only needed when the Buffer itself sits at an odd place in its ArrayBuffer.
    const wordStart = buf.byteOffset + typeStart;
    if (wordStart % 4 === 0) {
      this.words = new Uint32Array(buf.buffer, wordStart, typeLen >>> 2);
    } else {
      const copy = new Uint8Array(typeLen);
      copy.set(buf.subarray(typeStart, typeEnd));
      this.words = new Uint32Array(copy.buffer, 0, typeLen >>> 2);
    }
  }

  /** Index up to `limit` more types; true when the whole section is done. */
  step(limit: number): boolean {
    const { words, offsets, nameOffs, kinds, typeStart } = this;
    const nwords = words.length;
    let w = this.w;
    let id = this.id;
    const stop = id + limit;
    while (w < nwords && id < stop) {
      if (w + 3 > nwords) this.fail(`type header at offset ${typeStart + w * 4} runs past the end of the BTF type section`, typeStart + w * 4);
      const info = words[w + 1]!;
      const kind = (info >>> 24) & 0x1f;
      if (kind > BtfKind.ENUM64 || kind === 0) this.fail(`unknown BTF kind ${kind} for type id ${id}`, typeStart + w * 4);
      offsets[id] = typeStart + w * 4;
      nameOffs[id] = words[w]!;
      kinds[id] = kind;
      w += 3 + (extraBytes(kind, info & 0xffff) >>> 2);
      id++;
    }
    this.w = w;
    this.id = id;
    if (w < nwords) return false;
    if (w !== nwords) this.fail('the last type runs past the end of the BTF type section', this.typeEnd);
    return true;
  }
}

/** Kernel BTF by path, parsed (lazily) once per process. */
const cache = new Map<string, LazyBtf>();
export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

export function kernelBtf(path = VMLINUX_BTF): LazyBtf {
  let btf = cache.get(path);
  if (!btf) {
    btf = LazyBtf.read(path);
    cache.set(path, btf);
  }
  return btf;
}

const pending = new Map<string, Promise<LazyBtf>>();

/** kernelBtf() without blocking the event loop for long (LazyBtf.readAsync), into the same cache. */
export function kernelBtfAsync(path = VMLINUX_BTF): Promise<LazyBtf> {
  const known = cache.get(path);
  if (known) return Promise.resolve(known);
  let p = pending.get(path);
  if (!p) {
    p = LazyBtf.readAsync(path).then((btf) => {
      // A synchronous read may have won meanwhile: keep the one others already hold.
      const won = cache.get(path) ?? btf;
      cache.set(path, won);
      return won;
    }).finally(() => pending.delete(path));
    pending.set(path, p);
  }
  return p;
}

/** Forget cached kernel BTF (benchmarks measure the cold path with it). */
export function clearKernelBtfCache(): void {
  cache.clear();
}
