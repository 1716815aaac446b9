// CO-RE relocation resolution (what libbpf's relo_core.c does), on two BTFs: the object's (local) and
// the kernel's (target). Pure: given one relocation record it returns the value the instruction must
// hold, or that the instruction must be poisoned. Patching instructions is load/core-apply.ts's job.
//
// For each relocation: parse the local access spec ("0:1:2") against the local type; find target
// candidates by name with any "___flavour" suffix dropped and a compatible kind; match the spec
// against each candidate (fields by name, through anonymous members; arrays by index; compatible
// field types); compute the value for the local spec (to validate the instruction as clang wrote it)
// and for the target; every matching candidate must agree. No candidate: EXISTS kinds give 0, the
// others ask for the instruction to be poisoned.
import { BtfKind, type BtfComposite, type BtfEnum, type BtfEnum64, type BtfType } from './kinds.js';
import { essentialLength, essentialName } from './lazy.js';

export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

const KIND_NAMES = ['byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id', 'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches'];
export function coreKindName(kind: number): string {
  return KIND_NAMES[kind] ?? `kind(${kind})`;
}

const isFieldBased = (k: number) => k <= CoreReloKind.FIELD_RSHIFT_U64;
const isTypeBased = (k: number) => k === CoreReloKind.TYPE_ID_LOCAL || k === CoreReloKind.TYPE_ID_TARGET || k === CoreReloKind.TYPE_EXISTS || k === CoreReloKind.TYPE_SIZE || k === CoreReloKind.TYPE_MATCHES;
const isEnumvalBased = (k: number) => k === CoreReloKind.ENUMVAL_EXISTS || k === CoreReloKind.ENUMVAL_VALUE;

/** What the resolver needs of a BTF: types by id (the object's Btf and the kernel's LazyBtf both do). */
export interface TypeSource {
  type(id: number): BtfType;
}
/** A target BTF can also list types by essential name. */
export interface TargetSource extends TypeSource {
  idsByEssentialName(essential: string): number[];
}

/** A CO-RE relocation failed in a way that is the object's fault, not "not found" (which poisons). */
export class CoreError extends Error {
  override name = 'CoreError';
}

const MAX_SPEC_LEN = 64;

interface Accessor { typeId: number; idx: number; name?: string }
interface Spec {
  btf: TypeSource;
  rootTypeId: number;
  kind: number;
  /** Named accessors (anonymous members are folded away) and array indexes. */
  spec: Accessor[];
  /** Raw indexes, as in the access string. */
  raw: number[];
  bitOffset: number;
}

function skipModsAndTypedefs(btf: TypeSource, id: number): { t: BtfType; id: number } {
  let t = btf.type(id);
  for (let depth = 0; ; depth++) {
    if (depth > 32) throw new CoreError(`type id ${id}: typedef/modifier chain too long`);
    switch (t.kind) {
      case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
        id = t.type;
        t = btf.type(id);
        continue;
      default:
        return { t, id };
    }
  }
}

/** btf__resolve_size: bytes of a type, or -1 when it has none (void, FWD, FUNC_PROTO). */
export function resolveSize(btf: TypeSource, id: number): number {
  let nelems = 1;
  for (let depth = 0; depth < 32; depth++) {
    const t = btf.type(id);
    switch (t.kind) {
      case BtfKind.INT: case BtfKind.STRUCT: case BtfKind.UNION: case BtfKind.ENUM: case BtfKind.ENUM64:
      case BtfKind.DATASEC: case BtfKind.FLOAT:
        return nelems * t.size;
      case BtfKind.PTR:
        return nelems * 8;
      case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.VAR: case BtfKind.TYPE_TAG:
        id = t.type;
        continue;
      case BtfKind.ARRAY:
        nelems *= t.nelems;
        id = t.type;
        continue;
      default:
        return -1;
    }
  }
  return -1;
}

const isComposite = (t: BtfType): t is BtfComposite => t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION;
const isAnyEnum = (t: BtfType): t is BtfEnum | BtfEnum64 => t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64;
/** Same kind, or ENUM vs ENUM64. */
const kindsCompat = (a: BtfType, b: BtfType) => a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));

function isFlexArray(btf: TypeSource, prev: Accessor | undefined, nelems: number): boolean {
  if (!prev || !prev.name || nelems > 0) return false;
  const t = btf.type(prev.typeId);
  return isComposite(t) && prev.idx === t.members.length - 1;
}

/** bpf_core_parse_spec: the local access string made into accessors and a bit offset. */
function parseSpec(btf: TypeSource, typeId: number, accessor: string, kind: number): Spec {
  if (!accessor || accessor[0] === ':') throw new CoreError(`access string "${accessor}" is empty or malformed`);
  const spec: Spec = { btf, rootTypeId: typeId, kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeBased(kind)) {
    if (accessor !== '0') throw new CoreError(`a type relocation must have access string "0", not "${accessor}"`);
    return spec;
  }
  for (const part of accessor.split(':')) {
    if (!/^\d+$/.test(part)) throw new CoreError(`access string "${accessor}" is malformed`);
    if (spec.raw.length >= MAX_SPEC_LEN) throw new CoreError(`access string "${accessor}" is too deep`);
    spec.raw.push(Number(part));
  }
  let { t, id } = skipModsAndTypedefs(btf, typeId);
  let idx = spec.raw[0]!;
  spec.spec.push({ typeId: id, idx });
  if (isEnumvalBased(kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || idx >= t.values.length) throw new CoreError(`enum value relocation "${accessor}" does not name an enumerator of ${t.name || '<anon>'}`);
    spec.spec[0]!.name = t.values[idx]!.name;
    return spec;
  }
  if (!isFieldBased(kind)) throw new CoreError(`unknown relocation kind ${kind}`);
  const sz = resolveSize(btf, id);
  if (sz < 0) throw new CoreError(`type id ${id} has no size`);
  spec.bitOffset = idx * sz * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    ({ t, id } = skipModsAndTypedefs(btf, id));
    idx = spec.raw[i]!;
    if (isComposite(t)) {
      if (idx >= t.members.length) throw new CoreError(`member index ${idx} is out of range for ${t.name || '<anon>'} (${t.members.length} members)`);
      const m = t.members[idx]!;
      spec.bitOffset += m.bitOffset;
      if (m.name) spec.spec.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === BtfKind.ARRAY) {
      const nelems = t.nelems;
      ({ t, id } = skipModsAndTypedefs(btf, t.type));
      if (!isFlexArray(btf, spec.spec[spec.spec.length - 1], nelems) && idx >= nelems) throw new CoreError(`array index ${idx} is out of range (${nelems} elements)`);
      spec.spec.push({ typeId: id, idx });
      const esz = resolveSize(btf, id);
      if (esz < 0) throw new CoreError(`array element type id ${id} has no size`);
      spec.bitOffset += idx * esz * 8;
    } else {
      throw new CoreError(`access string "${accessor}" at index ${i} reaches a ${t.kind === BtfKind.PTR ? 'pointer' : `type of kind ${t.kind}`}, which cannot be indexed`);
    }
  }
  return spec;
}

/** bpf_core_fields_are_compat. */
function fieldsCompat(local: TypeSource, localId: number, targ: TypeSource, targId: number): boolean {
  for (let depth = 0; depth < 32; depth++) {
    const l = skipModsAndTypedefs(local, localId);
    const r = skipModsAndTypedefs(targ, targId);
    if (isComposite(l.t) && isComposite(r.t)) return true;
    if (!kindsCompat(l.t, r.t)) return false;
    switch (l.t.kind) {
      case BtfKind.PTR: case BtfKind.FLOAT:
        return true;
      case BtfKind.FWD: case BtfKind.ENUM: case BtfKind.ENUM64: {
        const ll = essentialLength(l.t.name);
        const rl = essentialLength(r.t.name);
        return ll === 0 || rl === 0 || (ll === rl && l.t.name.slice(0, ll) === r.t.name.slice(0, rl));
      }
      case BtfKind.INT:
        return l.t.bitOffset === 0 && r.t.kind === BtfKind.INT && r.t.bitOffset === 0;
      case BtfKind.ARRAY:
        localId = l.t.type;
        targId = (r.t as { type: number }).type;
        continue;
      default:
        return false;
    }
  }
  throw new CoreError('field types nest too deeply');
}

/** bpf_core_types_are_compat (TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET). */
export function typesAreCompat(local: TypeSource, localId: number, targ: TypeSource, targId: number, level = 32): boolean {
  if (!kindsCompat(local.type(localId), targ.type(targId))) return false;
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new CoreError('types nest too deeply');
    const l = skipModsAndTypedefs(local, localId);
    const r = skipModsAndTypedefs(targ, targId);
    if (!kindsCompat(l.t, r.t)) return false;
    switch (l.t.kind) {
      case BtfKind.UNKN: case BtfKind.STRUCT: case BtfKind.UNION: case BtfKind.ENUM: case BtfKind.FWD: case BtfKind.ENUM64:
        return true;
      case BtfKind.INT:
        return l.t.bitOffset === 0 && (r.t as { bitOffset: number }).bitOffset === 0;
      case BtfKind.PTR:
        localId = l.t.type; targId = (r.t as { type: number }).type;
        continue;
      case BtfKind.ARRAY:
        localId = l.t.type; targId = (r.t as { type: number }).type;
        continue;
      case BtfKind.FUNC_PROTO: {
        const rp = r.t as typeof l.t;
        if (l.t.params.length !== rp.params.length) return false;
        for (let i = 0; i < l.t.params.length; i++) {
          if (level <= 0) throw new CoreError('function prototypes nest too deeply');
          const lp = skipModsAndTypedefs(local, l.t.params[i]!.type).id;
          const tp = skipModsAndTypedefs(targ, rp.params[i]!.type).id;
          if (!typesAreCompat(local, lp, targ, tp, level - 1)) return false;
        }
        localId = skipModsAndTypedefs(local, l.t.returnType).id;
        targId = skipModsAndTypedefs(targ, rp.returnType).id;
        continue;
      }
      default:
        return false;
    }
  }
}

function namesMatch(local: string, targ: string): boolean {
  if (!targ) return !local;
  const tl = essentialLength(targ);
  const ll = essentialLength(local);
  return tl === ll && local.slice(0, ll) === targ.slice(0, tl);
}

/** bpf_core_types_match (TYPE_MATCHES): stricter — sizes, signedness, every member and enumerator. */
export function typesMatch(local: TypeSource, localId: number, targ: TypeSource, targId: number, behindPtr = false, level = 32): boolean {
  if (level <= 0) throw new CoreError('types nest too deeply');
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new CoreError('types nest too deeply');
    const { t: l } = skipModsAndTypedefs(local, localId);
    const { t: r } = skipModsAndTypedefs(targ, targId);
    if (!namesMatch(l.name, r.name)) return false;
    switch (l.kind) {
      case BtfKind.UNKN:
        return r.kind === BtfKind.UNKN;
      case BtfKind.FWD:
        if (behindPtr) {
          if (r.kind === BtfKind.FWD) return l.isUnion === r.isUnion;
          return (r.kind === BtfKind.STRUCT && !l.isUnion) || (r.kind === BtfKind.UNION && l.isUnion);
        }
        return r.kind === BtfKind.FWD && l.isUnion === r.isUnion;
      case BtfKind.ENUM: case BtfKind.ENUM64: {
        if (!isAnyEnum(r) || l.size !== r.size || l.values.length > r.values.length) return false;
        return l.values.every((lv) => r.values.some((rv) => namesMatch(lv.name, rv.name)));
      }
      case BtfKind.STRUCT: case BtfKind.UNION:
        if (behindPtr) {
          if (l.kind === r.kind) return true;
          return r.kind === BtfKind.FWD && (l.kind === BtfKind.UNION) === r.isUnion;
        }
        if (l.kind !== r.kind || !isComposite(r) || l.members.length > r.members.length) return false;
        return l.members.every((lm) => r.members.some((rm) => namesMatch(lm.name, rm.name) && typesMatch(local, lm.type, targ, rm.type, behindPtr, level - 1)));
      case BtfKind.INT:
        return r.kind === BtfKind.INT && l.size === r.size && (l.encoding & 1) === (r.encoding & 1);
      case BtfKind.PTR:
        if (r.kind !== BtfKind.PTR) return false;
        behindPtr = true;
        localId = l.type; targId = r.type;
        continue;
      case BtfKind.ARRAY:
        if (r.kind !== BtfKind.ARRAY || l.nelems !== r.nelems) return false;
        localId = l.type; targId = r.type;
        continue;
      case BtfKind.FUNC_PROTO:
        if (r.kind !== BtfKind.FUNC_PROTO || l.params.length !== r.params.length) return false;
        for (let i = 0; i < l.params.length; i++) if (!typesMatch(local, l.params[i]!.type, targ, r.params[i]!.type, behindPtr, level - 1)) return false;
        localId = l.returnType; targId = r.returnType;
        continue;
      default:
        return false;
    }
  }
}

/** bpf_core_match_member: find the local member by name in target composite `targId`, through anonymous members. */
function matchMember(local: TypeSource, acc: Accessor, targ: TypeSource, targId: number, spec: Spec): number | undefined | false {
  const { t, id } = skipModsAndTypedefs(targ, targId);
  if (!isComposite(t)) return false;
  const localType = local.type(acc.typeId) as BtfComposite;
  const localMember = localType.members[acc.idx]!;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (spec.raw.length >= MAX_SPEC_LEN) throw new CoreError('target type nests too deeply');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (!m.name) {
      const found = matchMember(local, acc, targ, m.type, spec);
      if (found !== false) return found;
    } else if (m.name === localMember.name) {
      if (!fieldsCompat(local, localMember.type, targ, m.type)) return undefined; // named match, wrong type: no match at all
      spec.spec.push({ typeId: id, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return false;
}

/** bpf_core_spec_match: does the local spec exist in candidate `targId`? Returns the target spec. */
function specMatch(local: Spec, targ: TypeSource, targId: number): Spec | undefined {
  const out: Spec = { btf: targ, rootTypeId: targId, kind: local.kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeBased(local.kind)) {
    const ok = local.kind === CoreReloKind.TYPE_MATCHES
      ? typesMatch(local.btf, local.rootTypeId, targ, targId)
      : typesAreCompat(local.btf, local.rootTypeId, targ, targId);
    return ok ? out : undefined;
  }
  if (isEnumvalBased(local.kind)) {
    const { t, id } = skipModsAndTypedefs(targ, targId);
    if (!isAnyEnum(t)) return undefined;
    const want = essentialName(local.spec[0]!.name!);
    for (let i = 0; i < t.values.length; i++) {
      const name = t.values[i]!.name;
      if (essentialName(name) === want) {
        out.spec.push({ typeId: id, idx: i, name });
        out.raw.push(i);
        return out;
      }
    }
    return undefined;
  }
  let id = targId;
  for (let i = 0; i < local.spec.length; i++) {
    const acc = local.spec[i]!;
    const st = skipModsAndTypedefs(targ, id);
    id = st.id;
    if (acc.name) {
      const next = matchMember(local.btf, acc, targ, id, out);
      if (next === false || next === undefined) return undefined;
      id = next;
    } else {
      if (i > 0) {
        if (st.t.kind !== BtfKind.ARRAY) return undefined;
        if (!isFlexArray(targ, out.spec[out.spec.length - 1], st.t.nelems) && acc.idx >= st.t.nelems) return undefined;
        id = skipModsAndTypedefs(targ, st.t.type).id;
      }
      if (out.raw.length >= MAX_SPEC_LEN) throw new CoreError('target type nests too deeply');
      out.spec.push({ typeId: id, idx: acc.idx });
      out.raw.push(acc.idx);
      const sz = resolveSize(targ, id);
      if (sz < 0) throw new CoreError(`target type id ${id} has no size`);
      out.bitOffset += acc.idx * sz * 8;
    }
  }
  return out;
}

/** One side's value (bpf_core_calc_field_relo etc.); `poison` when the kind has no value without a target. */
interface Side { val: bigint; size: number; typeId: number; validate: boolean; poison?: string }

function fieldValue(kind: number, spec: Spec | undefined): Side {
  if (kind === CoreReloKind.FIELD_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) return { val: 0n, size: 0, typeId: 0, validate: true, poison: 'the field does not exist in the target' };
  const acc = spec.spec[spec.spec.length - 1]!;
  const btf = spec.btf;
  if (!acc.name) {
    const sz = resolveSize(btf, acc.typeId);
    if (sz < 0) throw new CoreError(`array element type id ${acc.typeId} has no size`);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) return { val: BigInt(spec.bitOffset / 8), size: sz, typeId: acc.typeId, validate: true };
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { val: BigInt(sz), size: 0, typeId: 0, validate: true };
    throw new CoreError(`${coreKindName(kind)} cannot be applied to an array element`);
  }
  const t = btf.type(acc.typeId) as BtfComposite;
  const m = t.members[acc.idx]!;
  const { t: mt, id: fieldTypeId } = skipModsAndTypedefs(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = (mt as { size: number }).size;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreError('the bitfield cannot be read with one 64-bit load');
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    const sz = resolveSize(btf, fieldTypeId);
    if (sz < 0) throw new CoreError(`field type id ${fieldTypeId} has no size`);
    byteSz = sz;
    byteOff = Math.floor(bitOff / 8);
    bitSz = byteSz * 8;
  }
  const side: Side = { val: 0n, size: 0, typeId: 0, validate: !bitfield };
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      side.val = BigInt(byteOff);
      if (!bitfield) { side.size = byteSz; side.typeId = fieldTypeId; }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      side.val = BigInt(byteSz);
      break;
    case CoreReloKind.FIELD_SIGNED:
      side.val = (isAnyEnum(mt) && mt.signed) || (mt.kind === BtfKind.INT && (mt.encoding & 1) !== 0) ? 1n : 0n;
      side.validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      side.val = BigInt(64 - (bitOff + bitSz - byteOff * 8));
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      side.val = BigInt(64 - bitSz);
      side.validate = true;
      break;
    default:
      throw new CoreError(`unknown relocation kind ${kind}`);
  }
  return side;
}

function typeValue(kind: number, spec: Spec | undefined): Side {
  // Type-based relocations give 0 when the target type is not found (libbpf).
  if (!spec) return { val: 0n, size: 0, typeId: 0, validate: true };
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return { val: BigInt(spec.rootTypeId), size: 0, typeId: 0, validate: false };
    case CoreReloKind.TYPE_EXISTS: case CoreReloKind.TYPE_MATCHES:
      return { val: 1n, size: 0, typeId: 0, validate: true };
    case CoreReloKind.TYPE_SIZE: {
      const sz = resolveSize(spec.btf, spec.rootTypeId);
      if (sz < 0) throw new CoreError(`type id ${spec.rootTypeId} has no size`);
      return { val: BigInt(sz), size: 0, typeId: 0, validate: true };
    }
    default:
      throw new CoreError(`unknown relocation kind ${kind}`);
  }
}

function enumValue(kind: number, spec: Spec | undefined): Side {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) return { val: 0n, size: 0, typeId: 0, validate: true, poison: 'the enumerator does not exist in the target' };
  const acc = spec.spec[0]!;
  const t = spec.btf.type(acc.typeId) as BtfEnum | BtfEnum64;
  const v = t.values[acc.idx]!.value;
  return { val: BigInt.asUintN(64, BigInt(v)), size: 0, typeId: 0, validate: true };
}

function sideValue(kind: number, spec: Spec | undefined): Side {
  if (isFieldBased(kind)) return fieldValue(kind, spec);
  if (isTypeBased(kind)) return typeValue(kind, spec);
  return enumValue(kind, spec);
}

export interface CoreRelocation { typeId: number; accessor: string; kind: number }

export interface CoreResult {
  /** The value clang put in the instruction (from the local spec). */
  origVal: bigint;
  /** The value the instruction must hold on the target kernel. */
  newVal: bigint;
  /** The instruction must be replaced by an invalid call (unresolvable and not an EXISTS kind). */
  poison: boolean;
  /** Check the instruction holds origVal before patching. */
  validate: boolean;
  /** Field sizes (for loads/stores whose width must change: int or pointer of another size). */
  origSize: number;
  newSize: number;
  /** The load/store width cannot be adjusted (field changed to a type of another kind): poison. */
  failMemszAdjust: boolean;
  /** The local type ("struct task_struct___local") and what the access string names ("pid"). */
  localType: string;
  access: string;
  /** The target types matched, "struct task_struct [114]"; empty when none. */
  targets: string[];
  /** Candidates by name that did not match (why a relocation was poisoned). */
  candidates: string[];
  reason?: string;
}

function describeType(t: BtfType): string {
  const kind = t.kind === BtfKind.STRUCT ? 'struct' : t.kind === BtfKind.UNION ? 'union' : t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64 ? 'enum' : t.kind === BtfKind.TYPEDEF ? 'typedef' : t.kind === BtfKind.FWD ? 'fwd' : t.kind === BtfKind.INT ? 'int' : `kind ${t.kind}`;
  return `${kind} ${t.name || '<anon>'}`;
}

/** Human-readable access: "pid", "parent.tgid", "flags[2]", or the enumerator name. */
function describeAccess(spec: Spec): string {
  if (isTypeBased(spec.kind)) return '';
  if (isEnumvalBased(spec.kind)) return spec.spec[0]!.name!;
  let s = '';
  spec.spec.forEach((a, i) => {
    if (i === 0) { if (a.idx !== 0) s += `[${a.idx}]`; return; }
    s += a.name ? `${s ? '.' : ''}${a.name}` : `[${a.idx}]`;
  });
  return s;
}

/** Resolve one relocation of the object's BTF `local` against `target`. Throws CoreError on bad input or ambiguity. */
export function resolveCoreRelocation(local: TypeSource, target: TargetSource, relo: CoreRelocation): CoreResult {
  const localType = local.type(relo.typeId);
  const base = { poison: false, validate: true, origSize: 0, newSize: 0, failMemszAdjust: false, localType: describeType(localType), access: '', targets: [] as string[], candidates: [] as string[] };
  if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
    if (relo.accessor !== '0') throw new CoreError(`a type relocation must have access string "0", not "${relo.accessor}"`);
    return { ...base, origVal: BigInt(relo.typeId), newVal: BigInt(relo.typeId), validate: false };
  }
  if (relo.kind > CoreReloKind.TYPE_MATCHES) throw new CoreError(`unknown CO-RE relocation kind ${relo.kind} (newer than this loader)`);
  const localSpec = parseSpec(local, relo.typeId, relo.accessor, relo.kind);
  base.access = describeAccess(localSpec);
  if (!localType.name) throw new CoreError(`${describeType(localType)} (type id ${relo.typeId}) is anonymous: CO-RE needs a named root type`);
  const essential = essentialName(localType.name);
  let chosen: { spec: Spec; side: Side } | undefined;
  for (const id of target.idsByEssentialName(essential)) {
    const cand = target.type(id);
    if (!kindsCompat(cand, localType)) continue;
    base.candidates.push(`${describeType(cand)} [${id}]`);
    const spec = specMatch(localSpec, target, id);
    if (!spec) continue;
    const side = sideValue(relo.kind, spec);
    if (chosen) {
      if (isFieldBased(relo.kind) && spec.bitOffset !== chosen.spec.bitOffset) {
        throw new CoreError(`ambiguous: candidates ${base.targets.join(', ')} and ${describeType(cand)} [${id}] put the field at different offsets (bit ${chosen.spec.bitOffset} vs ${spec.bitOffset})`);
      }
      if (side.val !== chosen.side.val || !!side.poison !== !!chosen.side.poison) {
        throw new CoreError(`ambiguous: candidates ${base.targets.join(', ')} and ${describeType(cand)} [${id}] give different values (${chosen.side.val} vs ${side.val})`);
      }
    } else {
      chosen = { spec, side };
    }
    base.targets.push(`${describeType(cand)} [${id}]`);
  }
  const orig = sideValue(relo.kind, localSpec);
  const targ = chosen?.side ?? sideValue(relo.kind, undefined);
  const result: CoreResult = {
    ...base, origVal: orig.val, newVal: targ.val, validate: orig.validate, origSize: orig.size, newSize: targ.size,
    poison: !!targ.poison, reason: targ.poison ? (base.candidates.length ? `${targ.poison} (candidates: ${base.candidates.join(', ')})` : `no type named ${essential} of a compatible kind in the target`) : undefined,
  };
  if (!result.poison && isFieldBased(relo.kind) && orig.size !== targ.size && chosen) {
    const ot = skipModsAndTypedefs(local, orig.typeId).t;
    const nt = skipModsAndTypedefs(target, targ.typeId).t;
    const ok = (ot.kind === BtfKind.PTR && nt.kind === BtfKind.PTR) || (ot.kind === BtfKind.INT && nt.kind === BtfKind.INT) || (isAnyEnum(ot) && isAnyEnum(nt));
    result.failMemszAdjust = !ok;
  }
  return result;
}
