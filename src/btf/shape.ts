// What JS value stands for a BTF type: a Shape, built once per map key/value (or global) and then
// walked by the codec (codec.ts) to decode and encode, and by the generator (src/gen) to write the
// matching TypeScript type — one set of rules for both, so the types cannot drift from the values.
//
// The rules:
//   - integers of 1, 2 or 4 bytes → number; of 8 or 16 bytes → bigint; _Bool → boolean; float and
//     double → number; pointers → bigint (the raw address)
//   - enums → the enumerator's name, or the number when no enumerator has the value (encode takes
//     either a name or a number)
//   - arrays of `char` → string (see codec.ts for the exact rule); other arrays → JS arrays
//   - structs → objects by member name, with the members of anonymous structs and unions merged in
//     (as C spells them: v.x for `struct { int x; }`); unions → every member decoded, one or more
//     given on encode (they must agree where they overlap)
//   - bitfields → the type of their underlying integer (number, or bigint when it is 64-bit)
//   - fields the kernel manages (struct bpf_spin_lock, bpf_timer, bpf_list_head, kptrs, …) are left
//     out: lookups return them zeroed, and encode writes zeroes
// Pure: no syscalls.
import { UsageError } from '../errors.js';
import { BtfKind, btfKindName, type BtfType } from './kinds.js';

/** Anything that hands out BTF types by id: a Btf, or the kernel's LazyBtf. */
export interface BtfTypes {
  type(id: number): BtfType;
}

export interface IntShape { kind: 'int'; size: number; signed: boolean }
export interface BoolShape { kind: 'bool'; size: number }
export interface FloatShape { kind: 'float'; size: 4 | 8 }
export interface EnumShape {
  kind: 'enum'; size: number; signed: boolean;
  /** The C name ("color" for enum color, a typedef's name for an anonymous enum), or "". */
  cName: string;
  typeId: number;
  values: readonly { name: string; value: bigint }[];
}
export interface PointerShape { kind: 'pointer' }
/** A char array, read as the string before its first NUL. */
export interface StringShape { kind: 'string'; size: number }
export interface ArrayShape { kind: 'array'; length: number; element: Shape; stride: number }
export interface RecordShape {
  kind: 'struct' | 'union';
  size: number;
  /** The C name ("flow_key"; a typedef's name for an anonymous struct; ".bss" for a DATASEC), or "". */
  cName: string;
  typeId: number;
  fields: FieldShape[];
  /** Kernel-managed members, left out of values and zeroed on encode (their names, for messages). */
  hidden: string[];
}
export interface VoidShape { kind: 'void' }

export type Shape = IntShape | BoolShape | FloatShape | EnumShape | PointerShape | StringShape | ArrayShape | RecordShape | VoidShape;

export interface FieldShape {
  name: string;
  /** Offset from the start of the record, in bits. */
  bitOffset: number;
  /** A bitfield's width in bits; 0 for a whole member. */
  bitSize: number;
  shape: Shape;
  /** A member of a union (or of an anonymous union merged into a struct): optional on encode. */
  alternative: boolean;
}

/** Kernel objects inside map values: the kernel owns their bytes (userspace sees zeroes). */
const KERNEL_MANAGED = new Set([
  'bpf_spin_lock', 'bpf_res_spin_lock', 'bpf_timer', 'bpf_wq', 'bpf_task_work', 'bpf_list_head', 'bpf_list_node',
  'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount',
]);
/** Type tags that make a pointer a kptr (kernel-managed too). */
const KPTR_TAGS = new Set(['kptr', 'kptr_untrusted', 'kptr_ref', 'percpu_kptr']);

/** Deeper nesting than this is a cycle (a struct cannot contain itself by value). */
const MAX_DEPTH = 64;

/** Bytes a value of this shape takes. */
export function shapeSize(s: Shape): number {
  switch (s.kind) {
    case 'int': case 'bool': case 'float': case 'enum': case 'string': case 'struct': case 'union': return s.size;
    case 'pointer': return 8;
    case 'array': return s.length * s.stride;
    case 'void': return 0;
  }
}

/**
 * The shape of BTF type `typeId` (0 is void: maps without a key). `what` names the owner for errors
 * ("map flows"), `root` the part ("key", "value", "global magic"). A type with no layout (a forward
 * declaration, a function) is a UsageError naming the field.
 */
export function shapeOf(btf: BtfTypes, typeId: number, what: string, root: string): Shape {
  return build(btf, typeId, { what, path: root, depth: 0 });
}

interface Where { what: string; path: string; depth: number }

function notSupported(at: Where, why: string): UsageError {
  return new UsageError('NOT_SUPPORTED', `${at.what}: ${at.path} ${why}`, { hint: 'use the Buffer API (lookup/update) for this map' });
}

/** Follow typedefs and qualifiers; the first typedef's name names an anonymous struct/enum below it. */
function resolve(btf: BtfTypes, id: number, at: Where): { t: BtfType; alias: string; tags: string[] } {
  let t = btf.type(id);
  let alias = '';
  const tags: string[] = [];
  for (let n = 0; ; n++) {
    if (n > MAX_DEPTH) throw notSupported(at, `has a typedef/qualifier chain too long (a cycle in the BTF?)`);
    switch (t.kind) {
      case BtfKind.TYPEDEF:
        if (!alias) alias = t.name;
        t = btf.type(t.type);
        continue;
      case BtfKind.TYPE_TAG:
        tags.push(t.name);
        t = btf.type(t.type);
        continue;
      case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.VAR:
        t = btf.type(t.type);
        continue;
      default:
        return { t, alias, tags };
    }
  }
}

function build(btf: BtfTypes, id: number, at: Where): Shape {
  if (at.depth > MAX_DEPTH) throw notSupported(at, 'nests too deeply (a cycle in the BTF?)');
  if (id === 0) return { kind: 'void' };
  const { t, alias } = resolve(btf, id, at);
  switch (t.kind) {
    case BtfKind.UNKN:
      return { kind: 'void' };
    case BtfKind.INT: {
      if (t.encoding & 4) return { kind: 'bool', size: t.size };
      if (t.bits !== t.size * 8 || t.bitOffset !== 0) throw notSupported(at, `is an integer of ${t.bits} bits at bit ${t.bitOffset} of ${t.size} bytes (a BTF INT bitfield encoding)`);
      if (![1, 2, 4, 8, 16].includes(t.size)) throw notSupported(at, `is an integer of ${t.size} bytes`);
      return { kind: 'int', size: t.size, signed: (t.encoding & 1) !== 0 };
    }
    case BtfKind.FLOAT:
      if (t.size !== 4 && t.size !== 8) throw notSupported(at, `is a ${t.size}-byte float (${t.name}), which a JS number cannot hold`);
      return { kind: 'float', size: t.size };
    case BtfKind.ENUM:
      return { kind: 'enum', size: t.size, signed: t.signed, cName: t.name || alias, typeId: t.id, values: t.values.map((v) => ({ name: v.name, value: BigInt(v.value) })) };
    case BtfKind.ENUM64:
      return { kind: 'enum', size: t.size, signed: t.signed, cName: t.name || alias, typeId: t.id, values: t.values.map((v) => ({ name: v.name, value: v.value })) };
    case BtfKind.PTR:
      return { kind: 'pointer' };
    case BtfKind.ARRAY: {
      const inner = { ...at, path: `${at.path}[]`, depth: at.depth + 1 };
      const el = resolve(btf, t.type, inner).t;
      if (el.kind === BtfKind.INT && el.size === 1 && (el.name === 'char' || (el.encoding & 2) !== 0)) return { kind: 'string', size: t.nelems };
      const element = build(btf, t.type, inner);
      return { kind: 'array', length: t.nelems, element, stride: shapeSize(element) };
    }
    case BtfKind.STRUCT: case BtfKind.UNION: {
      const record: RecordShape = { kind: t.kind === BtfKind.STRUCT ? 'struct' : 'union', size: t.size, cName: t.name || alias, typeId: t.id, fields: [], hidden: [] };
      addMembers(btf, record, t, 0, t.kind === BtfKind.UNION, at);
      return record;
    }
    case BtfKind.DATASEC: {
      const record: RecordShape = { kind: 'struct', size: t.size, cName: t.name, typeId: t.id, fields: [], hidden: [] };
      for (const v of t.vars) {
        const variable = btf.type(v.type);
        const name = variable.name;
        record.fields.push({ name, bitOffset: v.offset * 8, bitSize: 0, shape: build(btf, v.type, { ...at, path: `${at.path}.${name}`, depth: at.depth + 1 }), alternative: false });
      }
      return record;
    }
    case BtfKind.FWD:
      throw notSupported(at, `is ${t.isUnion ? 'union' : 'struct'} ${t.name}, declared but not defined in this BTF: it has no layout`);
    default:
      throw notSupported(at, `is a ${btfKindName(t.kind)}${t.name ? ` (${t.name})` : ''}, which has no value to read`);
  }
}

/** Add the members of struct/union `t` (at `base` bits) to `record`, merging anonymous members in. */
function addMembers(btf: BtfTypes, record: RecordShape, t: Extract<BtfType, { kind: 4 | 5 }>, base: number, alternative: boolean, at: Where): void {
  for (const m of t.members) {
    const path = m.name ? `${at.path}.${m.name}` : at.path;
    const where = { ...at, path, depth: at.depth + 1 };
    const { t: mt, tags } = resolve(btf, m.type, where);
    if (!m.name && (mt.kind === BtfKind.STRUCT || mt.kind === BtfKind.UNION)) {
      addMembers(btf, record, mt, base + m.bitOffset, alternative || mt.kind === BtfKind.UNION, where);
      continue;
    }
    if (!m.name) continue; // an unnamed bitfield: padding
    if (((mt.kind === BtfKind.STRUCT || mt.kind === BtfKind.UNION) && KERNEL_MANAGED.has(mt.name)) || (mt.kind === BtfKind.PTR && pointerIsKptr(btf, mt.type, tags))) {
      record.hidden.push(m.name);
      continue;
    }
    record.fields.push({ name: m.name, bitOffset: base + m.bitOffset, bitSize: m.bitfieldSize, shape: build(btf, m.type, where), alternative });
  }
}

/** A pointer whose pointee (or itself) carries a kptr type tag. */
function pointerIsKptr(btf: BtfTypes, pointee: number, tags: string[]): boolean {
  if (tags.some((x) => KPTR_TAGS.has(x))) return true;
  let t = btf.type(pointee);
  for (let n = 0; n < MAX_DEPTH && t.kind === BtfKind.TYPE_TAG; n++) {
    if (KPTR_TAGS.has(t.name)) return true;
    t = btf.type(t.type);
  }
  return false;
}

/** Short C-like names for integer shapes in messages and signatures: u8, s32, u64, u128. */
export function intName(s: IntShape): string {
  return `${s.signed ? 's' : 'u'}${s.size * 8}`;
}

/**
 * A compact, stable description of a shape's layout (names, offsets, kinds): the generated module
 * keeps it and compares it with the object it opens, so a stale module is refused, not misread.
 */
export function shapeSignature(s: Shape): string {
  switch (s.kind) {
    case 'int': return intName(s);
    case 'bool': return `bool${s.size}`;
    case 'float': return `f${s.size * 8}`;
    case 'enum': return `enum${s.size}${s.signed ? 's' : ''}(${s.values.map((v) => `${v.name}=${v.value}`).join(',')})`;
    case 'pointer': return 'ptr';
    case 'string': return `char[${s.size}]`;
    case 'array': return `${shapeSignature(s.element)}[${s.length}]`;
    case 'void': return 'void';
    case 'struct': case 'union':
      return `${s.kind}${s.size}{${s.fields.map((f) => `${f.name}@${f.bitOffset}${f.bitSize ? `:${f.bitSize}` : ''}${f.alternative ? '?' : ''}=${shapeSignature(f.shape)}`).join(';')}${s.hidden.length ? `;hidden:${s.hidden.join(',')}` : ''}}`;
  }
}
