// Decoding the .BTF section: header, type section and string section, every kind. Each read is bounds
// checked and every referenced type id is checked against the number of types, so a malformed blob
// is an ObjectError naming the offset, never a RangeError. One linear pass: fine for vmlinux too.
import { ObjectError } from '../errors.js';
import { readCString } from '../elf/strings.js';
import {
  BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, BtfKind, btfKindName,
  type BtfHeader, type BtfType,
} from './kinds.js';

export interface DecodedBtf {
  header: BtfHeader;
  /** Index = type id; [0] is void. */
  types: BtfType[];
  strings: Buffer;
}

/** The header, where the type section lies, and the string section: every bound checked. */
export function decodeBtfHeader(buf: Buffer, file: string, section = '.BTF', split = false): { header: BtfHeader; typeStart: number; typeEnd: number; strings: Buffer } {
  const fail = (message: string, offset: number): never => {
    throw new ObjectError(file, message, { section, offset });
  };
  if (buf.length < BTF_HEADER_SIZE) fail(`BTF is ${buf.length} bytes, shorter than its header (${BTF_HEADER_SIZE})`, 0);
  const header: BtfHeader = {
    magic: buf.readUInt16LE(0),
    version: buf[2]!,
    flags: buf[3]!,
    hdrLen: buf.readUInt32LE(4),
    typeOff: buf.readUInt32LE(8),
    typeLen: buf.readUInt32LE(12),
    strOff: buf.readUInt32LE(16),
    strLen: buf.readUInt32LE(20),
  };
  if (header.magic !== BTF_MAGIC) fail(`bad BTF magic 0x${header.magic.toString(16)} (want 0xeb9f; big-endian BTF is not supported)`, 0);
  if (header.version !== 1) fail(`BTF version ${header.version} is not supported (only 1)`, 2);
  if (header.hdrLen < BTF_HEADER_SIZE || header.hdrLen > buf.length) fail(`BTF header length ${header.hdrLen} is invalid`, 4);
  const typeStart = header.hdrLen + header.typeOff;
  const strStart = header.hdrLen + header.strOff;
  if (typeStart + header.typeLen > buf.length) fail(`BTF type section (offset ${header.typeOff}, length ${header.typeLen}) runs past the end (${buf.length} bytes)`, 8);
  if (strStart + header.strLen > buf.length) fail(`BTF string section (offset ${header.strOff}, length ${header.strLen}) runs past the end (${buf.length} bytes)`, 16);
  if (header.typeOff % 4 !== 0) fail(`BTF type section offset ${header.typeOff} is not 4-byte aligned`, 8);
  if (typeStart < strStart + header.strLen && strStart < typeStart + header.typeLen) fail('BTF type and string sections overlap', 8);
  const strings = buf.subarray(strStart, strStart + header.strLen);
  if (!split && header.strLen > 0 && strings[0] !== 0) fail('BTF string section does not start with an empty string', strStart);

  return { header, typeStart, typeEnd: typeStart + header.typeLen, strings };
}

/**
 * Decode the one type whose 12-byte header is at `start` (id `id`); `end` bounds the type section.
 * Returns the type and where the next one starts. Shared by the one-pass decoder and the lazy one.
 */
export function decodeTypeAt(
  buf: Buffer, start: number, end: number, id: number,
  name: (off: number, at: number) => string, fail: (message: string, offset: number) => never,
): { type: BtfType; next: number } {
  let at = start;
  const need = (bytes: number, what: string) => {
    if (at + bytes > end) fail(`${what} at offset ${at} runs past the end of the BTF type section`, at);
  };
  need(BTF_TYPE_SIZE, 'type header');
  let out: BtfType | undefined;
  const nameOff = buf.readUInt32LE(at);
  const info = buf.readUInt32LE(at + 4);
  const sizeOrType = buf.readUInt32LE(at + 8);
  at += BTF_TYPE_SIZE;
  const vlen = info & 0xffff;
  const kind = (info >>> 24) & 0x1f;
  const kindFlag = (info >>> 31) === 1;
  const base = { id, name: name(nameOff, start), nameOff, kindFlag };
  switch (kind) {
    case BtfKind.INT: {
      need(4, 'INT encoding');
      const enc = buf.readUInt32LE(at);
      at += 4;
      out = ({ ...base, kind, size: sizeOrType, encoding: (enc >>> 24) & 0xf, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff });
      break;
    }
    case BtfKind.PTR: case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST:
    case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
      out = ({ ...base, kind, type: sizeOrType });
      break;
    case BtfKind.FUNC:
      out = ({ ...base, kind, type: sizeOrType, linkage: vlen });
      break;
    case BtfKind.FWD:
      out = ({ ...base, kind, isUnion: kindFlag });
      break;
    case BtfKind.FLOAT:
      out = ({ ...base, kind, size: sizeOrType });
      break;
    case BtfKind.ARRAY: {
      need(12, 'ARRAY');
      out = ({ ...base, kind, type: buf.readUInt32LE(at), indexType: buf.readUInt32LE(at + 4), nelems: buf.readUInt32LE(at + 8) });
      at += 12;
      break;
    }
    case BtfKind.STRUCT: case BtfKind.UNION: {
      need(vlen * 12, `${btfKindName(kind)} members`);
      const members = new Array(vlen);
      for (let i = 0; i < vlen; i++, at += 12) {
        const off = buf.readUInt32LE(at + 8);
        members[i] = {
          name: name(buf.readUInt32LE(at), at), nameOff: buf.readUInt32LE(at), type: buf.readUInt32LE(at + 4),
          bitOffset: kindFlag ? off & 0xffffff : off, bitfieldSize: kindFlag ? off >>> 24 : 0,
        };
      }
      out = ({ ...base, kind, size: sizeOrType, members });
      break;
    }
    case BtfKind.ENUM: {
      need(vlen * 8, 'ENUM values');
      const values = new Array(vlen);
      for (let i = 0; i < vlen; i++, at += 8) {
        values[i] = { name: name(buf.readUInt32LE(at), at), nameOff: buf.readUInt32LE(at), value: kindFlag ? buf.readInt32LE(at + 4) : buf.readUInt32LE(at + 4) };
      }
      out = ({ ...base, kind, size: sizeOrType, signed: kindFlag, values });
      break;
    }
    case BtfKind.ENUM64: {
      need(vlen * 12, 'ENUM64 values');
      const values = new Array(vlen);
      for (let i = 0; i < vlen; i++, at += 12) {
        const raw = (BigInt(buf.readUInt32LE(at + 8)) << 32n) | BigInt(buf.readUInt32LE(at + 4));
        values[i] = { name: name(buf.readUInt32LE(at), at), nameOff: buf.readUInt32LE(at), value: kindFlag ? BigInt.asIntN(64, raw) : raw };
      }
      out = ({ ...base, kind, size: sizeOrType, signed: kindFlag, values });
      break;
    }
    case BtfKind.FUNC_PROTO: {
      need(vlen * 8, 'FUNC_PROTO parameters');
      const params = new Array(vlen);
      for (let i = 0; i < vlen; i++, at += 8) {
        params[i] = { name: name(buf.readUInt32LE(at), at), nameOff: buf.readUInt32LE(at), type: buf.readUInt32LE(at + 4) };
      }
      out = ({ ...base, kind, returnType: sizeOrType, params });
      break;
    }
    case BtfKind.VAR: {
      need(4, 'VAR linkage');
      out = ({ ...base, kind, type: sizeOrType, linkage: buf.readUInt32LE(at) });
      at += 4;
      break;
    }
    case BtfKind.DATASEC: {
      need(vlen * 12, 'DATASEC variables');
      const vars = new Array(vlen);
      for (let i = 0; i < vlen; i++, at += 12) {
        vars[i] = { type: buf.readUInt32LE(at), offset: buf.readUInt32LE(at + 4), size: buf.readUInt32LE(at + 8) };
      }
      out = ({ ...base, kind, size: sizeOrType, vars });
      break;
    }
    case BtfKind.DECL_TAG: {
      need(4, 'DECL_TAG component');
      out = ({ ...base, kind, type: sizeOrType, componentIdx: buf.readInt32LE(at) });
      at += 4;
      break;
    }
    default:
      fail(`unknown BTF kind ${kind} for type id ${id}`, start);
  }
  return { type: out!, next: at };
}

export function decodeBtf(buf: Buffer, file: string, section = '.BTF'): DecodedBtf {
  const fail = (message: string, offset: number): never => {
    throw new ObjectError(file, message, { section, offset });
  };
  const { header, typeStart, typeEnd, strings } = decodeBtfHeader(buf, file, section);
  const nameCache = new Map<number, string>();
  const name = (off: number, at: number): string => {
    let s = nameCache.get(off);
    if (s === undefined) {
      if (off >= strings.length) fail(`string offset ${off} is outside the BTF string section (${strings.length} bytes)`, at);
      s = readCString(strings, off, { file, section, what: `BTF name at type offset ${at}` });
      nameCache.set(off, s);
    }
    return s;
  };

  const types: BtfType[] = [{ id: 0, kind: BtfKind.UNKN, name: '', nameOff: 0, kindFlag: false }];
  const typeOffsets: number[] = [0];
  let at = typeStart;
  while (at < typeEnd) {
    const id = types.length;
    typeOffsets.push(at);
    const r = decodeTypeAt(buf, at, typeEnd, id, name, fail);
    types.push(r.type);
    at = r.next;
  }
  checkReferences(types, (message, id) => fail(message, typeOffsets[id]!));
  return { header, types, strings };
}

/** Every type id a type refers to must exist: later lookups can then index without checks. */
function checkReferences(types: BtfType[], fail: (message: string, id: number) => never): void {
  for (const t of types) checkTypeReferences(t, types.length, fail);
}

/** The type ids one type refers to must be below `count`. */
export function checkTypeReferences(t: BtfType, count: number, fail: (message: string, id: number) => never): void {
  const check = (t: BtfType, ref: number, what: string) => {
    if (ref >= count) fail(`type id ${t.id} (${btfKindName(t.kind)} ${t.name || '<anon>'}) refers to ${what} type id ${ref}, but there are only ${count} types`, t.id);
  };
  {
    switch (t.kind) {
      case BtfKind.PTR: case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT:
      case BtfKind.TYPE_TAG: case BtfKind.FUNC: case BtfKind.VAR: case BtfKind.DECL_TAG:
        check(t, t.type, 'a');
        break;
      case BtfKind.ARRAY:
        check(t, t.type, 'an element');
        check(t, t.indexType, 'an index');
        break;
      case BtfKind.STRUCT: case BtfKind.UNION:
        for (const m of t.members) check(t, m.type, `member ${m.name}'s`);
        break;
      case BtfKind.FUNC_PROTO:
        check(t, t.returnType, 'a return');
        for (const p of t.params) check(t, p.type, 'a parameter');
        break;
      case BtfKind.DATASEC:
        for (const v of t.vars) check(t, v.type, 'a variable');
        break;
      default:
        break;
    }
  }
}
