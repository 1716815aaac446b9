// Externs (libbpf's bpf_object__collect_externs): undefined GLOBAL/WEAK NOTYPE symbols whose BTF
// VAR or FUNC (linkage extern) sits in DATASEC ".kconfig" (`extern ... __kconfig`) or ".ksyms"
// (`extern ... __ksym`). Kconfig externs become slots of one internal map ".kconfig" laid out as
// libbpf lays it out (by alignment, descending; then size; then name); ksyms stay externs the loader
// resolves against the kernel (kallsyms, kernel BTF). The object's BTF is rewritten the way libbpf
// rewrites it, because the kernel refuses extern linkage: .kconfig VARs become allocated globals at
// their slot offsets; .ksyms entries become 4-byte int VARs (functions: a "dummy_ksym" VAR, and the
// FUNC's linkage global). Pure: no kernel.
import { ObjectError } from '../errors.js';
import { BtfKind, BtfLinkage, type Btf, type BtfDatasec, type BtfType } from '../btf/index.js';
import { essentialName } from '../btf/lazy.js';
import { SectionIndex, SymbolBind, SymbolType, type ElfFile } from '../elf/index.js';
import { MapFlag, MapType } from '../uapi/enums.js';
import type { ExternSpec, MapSpec } from './spec.js';

export const KCONFIG_SECTION = '.kconfig';
export const KSYMS_SECTION = '.ksyms';

export interface CollectedExterns {
  externs: Map<string, ExternSpec>;
  /** ELF symbol index → extern name (relocations name the symbol). */
  bySymbol: Map<number, string>;
  /** The ".kconfig" map, when there are kconfig externs. */
  kconfigMap?: MapSpec;
}

/** libbpf's sym_is_extern: undefined, global or weak, no type. */
function isExternSymbol(s: { sectionIndex: number; bind: number; type: number }): boolean {
  return s.sectionIndex === SectionIndex.UNDEF && (s.bind === SymbolBind.GLOBAL || s.bind === SymbolBind.WEAK) && s.type === SymbolType.NOTYPE;
}

function skipModsAndTypedefs(btf: Btf, id: number): { t: BtfType; id: number } {
  let t = btf.type(id);
  for (let depth = 0; depth < 32; depth++) {
    switch (t.kind) {
      case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
        id = t.type;
        t = btf.type(id);
        continue;
      default:
        return { t, id };
    }
  }
  return { t, id };
}

/** btf__align_of (BPF pointers are 8 bytes). 0 when it has none. */
export function alignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > 32) return 0;
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.INT: case BtfKind.ENUM: case BtfKind.ENUM64: case BtfKind.FLOAT:
      return Math.min(8, t.size);
    case BtfKind.PTR:
      return 8;
    case BtfKind.TYPEDEF: case BtfKind.VOLATILE: case BtfKind.CONST: case BtfKind.RESTRICT: case BtfKind.TYPE_TAG:
      return alignOf(btf, t.type, depth + 1);
    case BtfKind.ARRAY:
      return alignOf(btf, t.type, depth + 1);
    case BtfKind.STRUCT: case BtfKind.UNION: {
      let max = 1;
      for (const m of t.members) {
        const a = alignOf(btf, m.type, depth + 1);
        if (a <= 0) return a;
        max = Math.max(max, a);
        // A member that is not at a multiple of its alignment: a packed struct.
        if (m.bitOffset % 8 !== 0 || (m.bitOffset / 8) % a !== 0) return 1;
      }
      if (t.size % max !== 0) return 1;
      return max;
    }
    default:
      return 0;
  }
}

/** libbpf's find_kcfg_type: what a kconfig extern's C type can hold. */
function kcfgType(btf: Btf, id: number): { type: NonNullable<ExternSpec['kconfig']>['type']; signed: boolean } | undefined {
  const { t } = skipModsAndTypedefs(btf, id);
  switch (t.kind) {
    case BtfKind.INT: {
      if (t.encoding & 4) return t.size === 1 ? { type: 'bool', signed: false } : undefined; // BTF_INT_BOOL
      const signed = (t.encoding & 1) !== 0;
      if (t.size === 1) return { type: 'char', signed };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1))) return undefined;
      return { type: 'int', signed };
    }
    case BtfKind.ENUM:
      return t.size === 4 && t.name === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case BtfKind.ENUM64:
      return t.name === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case BtfKind.ARRAY:
      if (t.nelems === 0) return undefined;
      return kcfgType(btf, t.type)?.type === 'char' ? { type: 'chars', signed: false } : undefined;
    default:
      return undefined;
  }
}

function resolveSize(btf: Btf, id: number): number {
  try {
    return btf.sizeOf(id);
  } catch {
    return -1;
  }
}

/** The DATASEC whose entries include type `id`. */
function datasecOf(btf: Btf, id: number): BtfDatasec | undefined {
  for (const t of btf.types) if (t.kind === BtfKind.DATASEC && t.vars.some((v) => v.type === id)) return t;
  return undefined;
}

/** The first 32-bit INT of the BTF (libbpf's find_int_btf_id), added when there is none. */
function int32(btf: Btf): number {
  const found = btf.types.find((t) => t.kind === BtfKind.INT && t.bits === 32);
  if (found) return found.id;
  return btf.addType({ id: 0, kind: BtfKind.INT, name: 'int', nameOff: btf.addString('int'), kindFlag: false, size: 4, encoding: 1, bitOffset: 0, bits: 32 });
}

const KIND_ORDER = { kconfig: 0, ksym: 1 } as const;

export function collectExterns(elf: ElfFile, btf: Btf | undefined, objName: string, file: string): CollectedExterns {
  const symbols = elf.symbols.filter((s) => s.index > 0 && isExternSymbol(s) && s.name);
  const out: CollectedExterns = { externs: new Map(), bySymbol: new Map() };
  if (symbols.length === 0) return out;
  const fail = (message: string): never => {
    throw new ObjectError(file, message, { section: '.BTF' });
  };
  if (!btf) fail(`the object has extern symbols (${symbols.map((s) => s.name).join(', ')}) but no .BTF section to say what they are: build with clang -g`);
  const b = btf!;

  const list: ExternSpec[] = [];
  const symbolOf = new Map<string, number[]>();
  for (const sym of symbols) {
    const candidates = b.types.filter((t) => (t.kind === BtfKind.VAR || t.kind === BtfKind.FUNC) && t.name === sym.name);
    const t = candidates[0];
    if (!t) fail(`extern ${sym.name} has no BTF VAR or FUNC: declare it __kconfig or __ksym (and build with clang -g)`);
    if ((t!.kind === BtfKind.VAR || t!.kind === BtfKind.FUNC) && t!.linkage !== BtfLinkage.EXTERN) {
      fail(`extern ${sym.name}: its BTF ${t!.kind === BtfKind.VAR ? 'VAR' : 'FUNC'} is not extern (linkage ${t!.linkage})`);
    }
    const ref = t as Extract<BtfType, { kind: 12 | 14 }>;
    const symList = symbolOf.get(ref.name) ?? [];
    symList.push(sym.index);
    symbolOf.set(ref.name, symList);
    if (list.some((e) => e.name === ref.name)) continue;
    const sec = datasecOf(b, ref.id);
    if (!sec) {
      fail(`extern ${ref.name} is in no BTF DATASEC: only __kconfig (.kconfig) and __ksym (.ksyms) externs can be resolved by a loader; link the object (bpftool gen object) to resolve other externs`);
    }
    const ext: ExternSpec = {
      name: ref.name, essentialName: essentialName(ref.name), kind: 'ksym', weak: sym.bind === SymbolBind.WEAK, btfId: ref.id,
    };
    if (sec!.name === KCONFIG_SECTION) {
      if (ref.kind === BtfKind.FUNC) fail(`extern function ${ref.name} cannot be __kconfig (.kconfig holds values)`);
      const size = resolveSize(b, ref.type);
      if (size <= 0) fail(`kconfig extern ${ref.name}: its type has no size`);
      const align = alignOf(b, ref.type);
      if (align <= 0) fail(`kconfig extern ${ref.name}: the alignment of its type cannot be determined`);
      const kt = kcfgType(b, ref.type);
      if (!kt) fail(`kconfig extern ${ref.name}: its type is not one a Kconfig value fits (bool, char, an integer of 1/2/4/8 bytes, enum libbpf_tristate, or char[N])`);
      ext.kind = 'kconfig';
      ext.kconfig = { type: kt!.type, size, align, signed: kt!.signed, offset: 0 };
    } else if (sec!.name === KSYMS_SECTION) {
      ext.kind = 'ksym';
      ext.ksym = { func: ref.kind === BtfKind.FUNC, typeId: ref.type === 0 ? 0 : skipModsAndTypedefs(b, ref.type).id };
    } else {
      fail(`extern ${ref.name} is in DATASEC ${sec!.name}: only .kconfig and .ksyms externs are supported (libbpf: "unrecognized extern section")`);
    }
    list.push(ext);
  }

  // libbpf's cmp_externs: kconfig before ksyms; kconfig by alignment (descending), size (ascending); then name.
  const cmp = (a: string, c: string) => (a < c ? -1 : a > c ? 1 : 0);
  list.sort((a, c) => {
    if (a.kind !== c.kind) return KIND_ORDER[a.kind] - KIND_ORDER[c.kind];
    if (a.kind === 'kconfig' && c.kind === 'kconfig') {
      if (a.kconfig!.align !== c.kconfig!.align) return c.kconfig!.align - a.kconfig!.align;
      if (a.kconfig!.size !== c.kconfig!.size) return a.kconfig!.size - c.kconfig!.size;
    }
    return cmp(a.name, c.name);
  });
  for (const e of list) {
    out.externs.set(e.name, e);
    for (const i of symbolOf.get(e.name) ?? []) out.bySymbol.set(i, e.name);
  }

  rewriteKsyms(b, list);
  const size = layoutKconfig(b, list);
  if (list.some((e) => e.kind === 'kconfig')) {
    const datasec = b.find(KCONFIG_SECTION, BtfKind.DATASEC) as BtfDatasec | undefined;
    out.kconfigMap = {
      name: KCONFIG_SECTION, type: MapType.ARRAY, keySize: 4, valueSize: size, maxEntries: 1,
      // libbpf: RDONLY_PROG for .kconfig; MMAPABLE because its VARs are (now) allocated globals.
      flags: MapFlag.RDONLY_PROG | MapFlag.MMAPABLE,
      pinning: 'none', mapExtra: 0n, kind: 'data', section: KCONFIG_SECTION,
      contents: Buffer.alloc(size), readonly: true,
      btfValueTypeId: datasec?.id,
    };
  }
  void objName;
  return out;
}

/** .ksyms: every entry becomes a 4-byte allocated int VAR at offset 4*i (functions via "dummy_ksym"). */
function rewriteKsyms(btf: Btf, list: readonly ExternSpec[]): void {
  const sec = btf.find(KSYMS_SECTION, BtfKind.DATASEC) as BtfDatasec | undefined;
  if (!sec) return;
  const hasFunc = sec.vars.some((v) => btf.type(v.type).kind === BtfKind.FUNC);
  const intId = int32(btf);
  let dummy = 0;
  if (hasFunc) {
    dummy = btf.addType({ id: 0, kind: BtfKind.VAR, name: 'dummy_ksym', nameOff: btf.addString('dummy_ksym'), kindFlag: false, type: intId, linkage: BtfLinkage.GLOBAL });
  }
  const dummyNameOff = hasFunc ? (btf.type(dummy) as { nameOff: number }).nameOff : 0;
  let off = 0;
  for (const v of sec.vars) {
    const t = btf.type(v.type);
    if (t.kind !== BtfKind.VAR && t.kind !== BtfKind.FUNC) continue;
    if (!list.some((e) => e.name === t.name)) {
      throw new ObjectError(btf.file, `BTF ${t.kind === BtfKind.FUNC ? 'FUNC' : 'VAR'} ${t.name} is in .ksyms but no extern symbol of that name is (libbpf: "failed to find extern definition")`, { section: '.BTF' });
    }
    if (t.kind === BtfKind.FUNC) {
      // The kernel wants every parameter of a FUNC named; libbpf borrows dummy_ksym's name.
      const proto = btf.type(t.type);
      if (proto.kind === BtfKind.FUNC_PROTO) {
        for (const p of proto.params) if (p.type && !p.nameOff) { p.nameOff = dummyNameOff; p.name = 'dummy_ksym'; }
      }
      t.linkage = BtfLinkage.GLOBAL;
      v.type = dummy;
    } else {
      t.linkage = BtfLinkage.GLOBAL;
      t.type = intId;
    }
    v.offset = off;
    v.size = 4;
    off += 4;
  }
  sec.size = off;
}

/** .kconfig: slot offsets in libbpf's order, aligned; the DATASEC and its VARs follow. Returns the size. */
function layoutKconfig(btf: Btf, list: readonly ExternSpec[]): number {
  let off = 0;
  for (const e of list) {
    if (e.kind !== 'kconfig') continue;
    const k = e.kconfig!;
    k.offset = Math.ceil(off / k.align) * k.align;
    off = k.offset + k.size;
  }
  const sec = btf.find(KCONFIG_SECTION, BtfKind.DATASEC) as BtfDatasec | undefined;
  if (sec) {
    sec.size = off;
    for (const v of sec.vars) {
      const t = btf.type(v.type);
      if (t.kind !== BtfKind.VAR) continue;
      const e = list.find((x) => x.name === t.name);
      if (!e?.kconfig) {
        throw new ObjectError(btf.file, `BTF VAR ${t.name} is in .kconfig but no extern symbol of that name is (libbpf: "failed to find extern definition")`, { section: '.BTF' });
      }
      t.linkage = BtfLinkage.GLOBAL;
      v.offset = e.kconfig.offset;
      v.size = e.kconfig.size;
    }
    sec.vars.sort((a, c) => a.offset - c.offset);
  }
  return off;
}
