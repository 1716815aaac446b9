// Writing BTF back to bytes (for BTF_LOAD): header (version/flags as read), types in id order, then the
// string section. Types are re-encoded from their decoded fields, so edits (e.g. DATASEC sizes and
// VAR offsets that clang leaves at 0) are written out; an unedited Btf encodes to its input bytes
// when the input had no padding between its parts.
import { BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, BtfKind, type BtfHeader, type BtfType } from './kinds.js';

function typeByteSize(t: BtfType): number {
  switch (t.kind) {
    case BtfKind.UNKN: return 0;
    case BtfKind.INT: case BtfKind.VAR: case BtfKind.DECL_TAG: return BTF_TYPE_SIZE + 4;
    case BtfKind.ARRAY: return BTF_TYPE_SIZE + 12;
    case BtfKind.STRUCT: case BtfKind.UNION: return BTF_TYPE_SIZE + 12 * t.members.length;
    case BtfKind.ENUM: return BTF_TYPE_SIZE + 8 * t.values.length;
    case BtfKind.ENUM64: return BTF_TYPE_SIZE + 12 * t.values.length;
    case BtfKind.FUNC_PROTO: return BTF_TYPE_SIZE + 8 * t.params.length;
    case BtfKind.DATASEC: return BTF_TYPE_SIZE + 12 * t.vars.length;
    default: return BTF_TYPE_SIZE;
  }
}

function info(kind: number, vlen: number, kindFlag: boolean): number {
  return ((kindFlag ? 1 << 31 : 0) | (kind << 24) | (vlen & 0xffff)) >>> 0;
}

/** Encode the types (without void) into one type section. */
export function encodeTypes(types: readonly BtfType[]): Buffer {
  let total = 0;
  for (const t of types) total += typeByteSize(t);
  const out = Buffer.alloc(total);
  let at = 0;
  const head = (nameOff: number, inf: number, sizeOrType: number) => {
    out.writeUInt32LE(nameOff, at);
    out.writeUInt32LE(inf, at + 4);
    out.writeUInt32LE(sizeOrType >>> 0, at + 8);
    at += BTF_TYPE_SIZE;
  };
  const u32 = (v: number) => { out.writeUInt32LE(v >>> 0, at); at += 4; };
  for (const t of types) {
    switch (t.kind) {
      case BtfKind.UNKN: break;
      case BtfKind.INT:
        head(t.nameOff, info(t.kind, 0, t.kindFlag), t.size);
        u32(((t.encoding & 0xf) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
        break;
      case BtfKind.PTR: case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST:
      case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
        head(t.nameOff, info(t.kind, 0, t.kindFlag), t.type);
        break;
      case BtfKind.FUNC: head(t.nameOff, info(t.kind, t.linkage, t.kindFlag), t.type); break;
      case BtfKind.FWD: head(t.nameOff, info(t.kind, 0, t.isUnion), 0); break;
      case BtfKind.FLOAT: head(t.nameOff, info(t.kind, 0, t.kindFlag), t.size); break;
      case BtfKind.ARRAY:
        head(t.nameOff, info(t.kind, 0, t.kindFlag), 0);
        u32(t.type); u32(t.indexType); u32(t.nelems);
        break;
      case BtfKind.STRUCT: case BtfKind.UNION:
        head(t.nameOff, info(t.kind, t.members.length, t.kindFlag), t.size);
        for (const m of t.members) {
          u32(m.nameOff); u32(m.type);
          u32(t.kindFlag ? ((m.bitfieldSize & 0xff) << 24) | (m.bitOffset & 0xffffff) : m.bitOffset);
        }
        break;
      case BtfKind.ENUM:
        head(t.nameOff, info(t.kind, t.values.length, t.signed), t.size);
        for (const v of t.values) { u32(v.nameOff); u32(v.value); }
        break;
      case BtfKind.ENUM64:
        head(t.nameOff, info(t.kind, t.values.length, t.signed), t.size);
        for (const v of t.values) {
          const raw = BigInt.asUintN(64, v.value);
          u32(v.nameOff); u32(Number(raw & 0xffffffffn)); u32(Number(raw >> 32n));
        }
        break;
      case BtfKind.FUNC_PROTO:
        head(t.nameOff, info(t.kind, t.params.length, t.kindFlag), t.returnType);
        for (const p of t.params) { u32(p.nameOff); u32(p.type); }
        break;
      case BtfKind.VAR:
        head(t.nameOff, info(t.kind, 0, t.kindFlag), t.type);
        u32(t.linkage);
        break;
      case BtfKind.DATASEC:
        head(t.nameOff, info(t.kind, t.vars.length, t.kindFlag), t.size);
        for (const v of t.vars) { u32(v.type); u32(v.offset); u32(v.size); }
        break;
      case BtfKind.DECL_TAG:
        head(t.nameOff, info(t.kind, 0, t.kindFlag), t.type);
        u32(t.componentIdx);
        break;
    }
  }
  return out;
}

/** A complete BTF blob: a 24-byte header, the types, then the strings. */
export function encodeBtf(header: Pick<BtfHeader, 'version' | 'flags'>, types: readonly BtfType[], strings: Buffer): Buffer {
  const typeBytes = encodeTypes(types);
  const out = Buffer.alloc(BTF_HEADER_SIZE + typeBytes.length + strings.length);
  out.writeUInt16LE(BTF_MAGIC, 0);
  out[2] = header.version;
  out[3] = header.flags;
  out.writeUInt32LE(BTF_HEADER_SIZE, 4);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(typeBytes.length, 12);
  out.writeUInt32LE(typeBytes.length, 16);
  out.writeUInt32LE(strings.length, 20);
  typeBytes.copy(out, BTF_HEADER_SIZE);
  strings.copy(out, BTF_HEADER_SIZE + typeBytes.length);
  return out;
}
