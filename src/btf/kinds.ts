// BTF kinds and the shape of each decoded type (include/uapi/linux/btf.h). Every field needed to write
// the type back out is kept, so encode.ts can serialise a (possibly edited) Btf for BTF_LOAD.

export const BTF_MAGIC = 0xeb9f;
/** struct btf_header is 24 bytes in version 1. */
export const BTF_HEADER_SIZE = 24;
/** struct btf_type: name_off, info, size/type. */
export const BTF_TYPE_SIZE = 12;

export const BtfKind = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export function btfKindName(kind: number): string {
  for (const [name, value] of Object.entries(BtfKind)) if (value === kind) return name;
  return `kind(${kind})`;
}

/** VAR and FUNC linkage. */
export const BtfLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

interface Named {
  /** Type id (0 is void and has no entry of its own). */
  id: number;
  name: string;
  nameOff: number;
  /** The raw kind_flag bit (info bit 31). Its meaning depends on the kind: bitfield member offsets for
   * STRUCT/UNION, signedness for ENUM/ENUM64 (see `signed`), union for FWD (see `isUnion`),
   * "attribute" for DECL_TAG/TYPE_TAG in newer kernels. Kept so types encode back unchanged. */
  kindFlag: boolean;
}

export interface BtfVoid extends Named { kind: 0 }
export interface BtfInt extends Named {
  kind: 1; size: number;
  /** BTF_INT_SIGNED 1, BTF_INT_CHAR 2, BTF_INT_BOOL 4. */
  encoding: number; bitOffset: number; bits: number;
}
/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: just a referenced type. */
export interface BtfRef extends Named { kind: 2 | 8 | 9 | 10 | 11 | 18; type: number }
export interface BtfArray extends Named { kind: 3; type: number; indexType: number; nelems: number }
export interface BtfMember { name: string; nameOff: number; type: number; bitOffset: number; bitfieldSize: number }
export interface BtfComposite extends Named {
  kind: 4 | 5; size: number;
  /** With kindFlag set, member offsets carry bitfield sizes in their top 8 bits. */
  members: BtfMember[];
}
export interface BtfEnumValue { name: string; nameOff: number; value: number }
export interface BtfEnum extends Named { kind: 6; size: number; signed: boolean; values: BtfEnumValue[] }
export interface BtfFwd extends Named { kind: 7; isUnion: boolean }
export interface BtfFunc extends Named { kind: 12; type: number; linkage: number }
export interface BtfParam { name: string; nameOff: number; type: number }
export interface BtfFuncProto extends Named { kind: 13; returnType: number; params: BtfParam[] }
export interface BtfVar extends Named { kind: 14; type: number; linkage: number }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export interface BtfDatasec extends Named { kind: 15; size: number; vars: BtfVarSecinfo[] }
export interface BtfFloat extends Named { kind: 16; size: number }
export interface BtfDeclTag extends Named { kind: 17; type: number; componentIdx: number }
export interface BtfEnum64Value { name: string; nameOff: number; value: bigint }
export interface BtfEnum64 extends Named { kind: 19; size: number; signed: boolean; values: BtfEnum64Value[] }

export type BtfType =
  | BtfVoid | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfFwd | BtfFunc
  | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag | BtfEnum64;

/** The raw header fields, kept so the BTF can be written back as it came. */
export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}
