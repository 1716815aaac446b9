// Rewriting BTF kinds a kernel does not know into kinds it does, the way libbpf and cilium/ebpf do for
// older kernels, so one object loads on both. Pure: takes the features the kernel has (probed by
// load/btf-probe.ts) and returns new bytes; the object's Btf is not modified.
//   no FUNC/FUNC_PROTO     FUNC → TYPEDEF, FUNC_PROTO → ENUM (params become enumerators)
//   no global func linkage FUNC linkage GLOBAL → STATIC
//   no VAR/DATASEC         VAR → INT (1 byte), DATASEC → STRUCT (vars become members; '.' → '_')
//   no FLOAT               FLOAT → STRUCT with no members, same size
//   no DECL_TAG            DECL_TAG → INT (1 byte)
//   no TYPE_TAG            TYPE_TAG → CONST
//   no ENUM64              ENUM64 → UNION of 1-byte ints ("enum64_placeholder"), signed ENUM → unsigned
import { encodeBtf } from './encode.js';
import { BtfKind, BtfLinkage, type BtfType } from './kinds.js';
import type { Btf } from './btf.js';

export interface BtfFeatures {
  func: boolean;
  funcGlobal: boolean;
  datasec: boolean;
  float: boolean;
  declTag: boolean;
  typeTag: boolean;
  enum64: boolean;
}

export const ALL_BTF_FEATURES: BtfFeatures = { func: true, funcGlobal: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true };

/** Which features the BTF uses (so only those need probing). */
export function featuresUsed(btf: Btf): Set<keyof BtfFeatures> {
  const used = new Set<keyof BtfFeatures>();
  for (const t of btf.types) {
    switch (t.kind) {
      case BtfKind.FUNC: used.add('func'); if (t.linkage === BtfLinkage.GLOBAL) used.add('funcGlobal'); break;
      case BtfKind.FUNC_PROTO: used.add('func'); break;
      case BtfKind.VAR: case BtfKind.DATASEC: used.add('datasec'); break;
      case BtfKind.FLOAT: used.add('float'); break;
      case BtfKind.DECL_TAG: used.add('declTag'); break;
      case BtfKind.TYPE_TAG: used.add('typeTag'); break;
      case BtfKind.ENUM64: used.add('enum64'); break;
      case BtfKind.ENUM: if (t.signed) used.add('enum64'); break;
      default: break;
    }
  }
  return used;
}

export interface SanitizedBtf {
  bytes: Buffer;
  /** One line per kind rewritten ("3 DECL_TAG → INT"); empty when the BTF went as it was. */
  rewrites: string[];
}

export function sanitizeBtf(btf: Btf, f: BtfFeatures): SanitizedBtf {
  const counts = new Map<string, number>();
  const note = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  const extraStrings: Buffer[] = [];
  let strLen = btf.strings.length;
  const addString = (s: string): number => {
    const off = strLen;
    const b = Buffer.from(s + '\0');
    extraStrings.push(b);
    strLen += b.length;
    return off;
  };
  const appended: BtfType[] = [];
  let placeholder = 0;
  const enum64Placeholder = (): number => {
    if (!placeholder) {
      placeholder = btf.types.length + appended.length;
      appended.push({ id: placeholder, kind: BtfKind.INT, name: 'enum64_placeholder', nameOff: addString('enum64_placeholder'), kindFlag: false, size: 1, encoding: 0, bitOffset: 0, bits: 8 });
    }
    return placeholder;
  };
  const byte = (t: BtfType): BtfType => ({ id: t.id, kind: BtfKind.INT, name: t.name, nameOff: t.nameOff, kindFlag: false, size: 1, encoding: 0, bitOffset: 0, bits: 8 });

  const out = btf.types.slice(1).map((t): BtfType => {
    switch (t.kind) {
      case BtfKind.FUNC:
        if (!f.func) { note('FUNC → TYPEDEF'); return { id: t.id, kind: BtfKind.TYPEDEF, name: t.name, nameOff: t.nameOff, kindFlag: false, type: t.type }; }
        if (!f.funcGlobal && t.linkage === BtfLinkage.GLOBAL) { note('global FUNC → static'); return { ...t, linkage: BtfLinkage.STATIC }; }
        return t;
      case BtfKind.FUNC_PROTO:
        if (f.func) return t;
        note('FUNC_PROTO → ENUM');
        return { id: t.id, kind: BtfKind.ENUM, name: t.name, nameOff: t.nameOff, kindFlag: false, size: 4, signed: false, values: t.params.map((p) => ({ name: p.name, nameOff: p.nameOff, value: p.type })) };
      case BtfKind.VAR:
        if (f.datasec) return t;
        note('VAR → INT');
        return byte(t);
      case BtfKind.DATASEC: {
        if (f.datasec) return t;
        note('DATASEC → STRUCT');
        const name = t.name.replace(/[.?]/g, '_');
        return {
          id: t.id, kind: BtfKind.STRUCT, name, nameOff: name === t.name ? t.nameOff : addString(name), kindFlag: false, size: t.size,
          members: t.vars.map((v) => {
            const variable = btf.type(v.type);
            return { name: variable.name, nameOff: variable.nameOff, type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 };
          }),
        };
      }
      case BtfKind.FLOAT:
        if (f.float) return t;
        note('FLOAT → STRUCT');
        return { id: t.id, kind: BtfKind.STRUCT, name: t.name, nameOff: t.nameOff, kindFlag: false, size: t.size, members: [] };
      case BtfKind.DECL_TAG:
        if (f.declTag) return t;
        note('DECL_TAG → INT');
        return byte(t);
      case BtfKind.TYPE_TAG:
        if (f.typeTag) return t;
        note('TYPE_TAG → CONST');
        return { id: t.id, kind: BtfKind.CONST, name: '', nameOff: 0, kindFlag: false, type: t.type };
      case BtfKind.ENUM64: {
        if (f.enum64) return t;
        note('ENUM64 → UNION');
        const ph = enum64Placeholder();
        return { id: t.id, kind: BtfKind.UNION, name: t.name, nameOff: t.nameOff, kindFlag: false, size: t.size, members: t.values.map((v) => ({ name: v.name, nameOff: v.nameOff, type: ph, bitOffset: 0, bitfieldSize: 0 })) };
      }
      case BtfKind.ENUM:
        if (f.enum64 || !t.signed) return t;
        note('signed ENUM → unsigned');
        return { ...t, signed: false, kindFlag: false };
      default:
        return t;
    }
  });
  if (counts.size === 0) return { bytes: btf.toBytes(), rewrites: [] };
  const strings = extraStrings.length ? Buffer.concat([btf.strings, ...extraStrings]) : btf.strings;
  return { bytes: encodeBtf(btf.header, [...out, ...appended], strings), rewrites: [...counts].map(([what, n]) => `${n} ${what}`) };
}
