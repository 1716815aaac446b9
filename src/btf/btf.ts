// The Btf class: decoded types by id (0 = void), names, and the lookups the object parser and the
// loader need. Malformed input is caught in decode.ts; lookups here only meet valid ids, except
// through cycles or wrong kinds, which are ObjectErrors too.
import { ObjectError } from '../errors.js';
import { decodeBtf } from './decode.js';
import { encodeBtf } from './encode.js';
import { BtfKind, btfKindName, type BtfHeader, type BtfType } from './kinds.js';
import { readCString } from '../elf/strings.js';

/** Deeper chains than this are cycles (kernel limit for modifiers is 32 too). */
const MAX_CHAIN = 32;

export class Btf {
  /** The file this BTF came from, for error messages. */
  readonly file: string;
  readonly section: string;
  readonly header: BtfHeader;
  /** Index = type id; types[0] is void. Mutable: the loader fixes DATASEC sizes before BTF_LOAD. */
  readonly types: BtfType[];
  #strings: Buffer;
  private byName?: Map<string, number[]>;

  private constructor(file: string, section: string, header: BtfHeader, types: BtfType[], strings: Buffer) {
    this.file = file;
    this.section = section;
    this.header = header;
    this.types = types;
    this.#strings = strings;
  }

  /** The raw string section (grows with addString). */
  get strings(): Buffer {
    return this.#strings;
  }

  /** Append a string (or find it, when it is already there); returns its offset. */
  addString(s: string): number {
    const want = Buffer.from(`${s}\0`);
    if (s === '') return 0;
    const at = this.#strings.indexOf(Buffer.from(`\0${s}\0`));
    if (at >= 0) return at + 1;
    const off = this.#strings.length;
    this.#strings = Buffer.concat([this.#strings, want]);
    return off;
  }

  /**
   * Append a type (its `id` is set to the next id, which is returned). Used for the few types the
   * loader adds for the kernel, as libbpf does (the "dummy_ksym" VAR of kfunc externs).
   */
  addType(t: BtfType): number {
    const id = this.types.length;
    t.id = id;
    this.types.push(t);
    this.byName = undefined;
    return id;
  }

  /** Parse a .BTF section (or /sys/kernel/btf/vmlinux). Throws ObjectError when malformed. */
  static parse(buf: Buffer, file: string, section = '.BTF'): Btf {
    const decoded = decodeBtf(buf, file, section);
    return new Btf(file, section, decoded.header, decoded.types, decoded.strings);
  }

  /** The type with this id; an ObjectError when there is none. */
  type(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw this.error(`type id ${id} does not exist (${this.types.length} types)`);
    return t;
  }

  /** The string at `offset` in the string section. */
  string(offset: number): string {
    return readCString(this.strings, offset, { file: this.file, section: this.section, what: 'BTF string' });
  }

  /** Follow TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG to the type underneath. */
  skipQualifiers(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; ; depth++) {
      if (depth > MAX_CHAIN) throw this.error(`type id ${id}: typedef/modifier chain too long (a cycle?)`);
      switch (t.kind) {
        case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
          t = this.type(t.type);
          continue;
        default:
          return t;
      }
    }
  }

  /** Size in bytes of a value of this type (arrays multiply out; pointers are 8). */
  sizeOf(id: number): number {
    let multiplier = 1;
    let t = this.type(id);
    for (let depth = 0; ; depth++) {
      if (depth > MAX_CHAIN) throw this.error(`type id ${id}: type chain too long to size (a cycle?)`);
      switch (t.kind) {
        case BtfKind.INT: case BtfKind.STRUCT: case BtfKind.UNION: case BtfKind.ENUM: case BtfKind.ENUM64:
        case BtfKind.FLOAT: case BtfKind.DATASEC:
          return multiplier * t.size;
        case BtfKind.PTR:
          return multiplier * 8;
        case BtfKind.ARRAY:
          multiplier *= t.nelems;
          t = this.type(t.type);
          continue;
        case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT:
        case BtfKind.TYPE_TAG: case BtfKind.VAR:
          t = this.type(t.type);
          continue;
        default:
          throw this.error(`type id ${id} (${btfKindName(t.kind)} ${t.name || '<anon>'}) has no size`);
      }
    }
  }

  /** Ids of the types with this name (and kind, when given), in id order. */
  findByName(name: string, kind?: number): BtfType[] {
    if (!this.byName) {
      this.byName = new Map();
      for (const t of this.types) {
        if (!t.name) continue;
        const ids = this.byName.get(t.name);
        if (ids) ids.push(t.id);
        else this.byName.set(t.name, [t.id]);
      }
    }
    const found = (this.byName.get(name) ?? []).map((id) => this.types[id]!);
    return kind === undefined ? found : found.filter((t) => t.kind === kind);
  }

  /** The one type with this name and kind, or undefined. */
  find(name: string, kind: number): BtfType | undefined {
    return this.findByName(name, kind)[0];
  }

  /** The BTF as bytes again (with any edits to `types`), ready for BTF_LOAD. */
  toBytes(): Buffer {
    return encodeBtf(this.header, this.types.slice(1), this.strings);
  }

  private error(message: string): ObjectError {
    return new ObjectError(this.file, message, { section: this.section });
  }
}
