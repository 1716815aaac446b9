// Global data: every .rodata* and .data* section (PROGBITS) and .bss* section (NOBITS) with content
// becomes a one-element ARRAY map named after the section, holding the section's initial bytes, as
// libbpf makes them; every STT_OBJECT symbol in it is a global the user can set before load.
// .rodata* is read-only for programs (and frozen by the loader). BPF_F_MMAPABLE is libbpf's
// map_is_mmapable(): the section's DATASEC has at least one non-static VAR.
import { ObjectError } from '../errors.js';
import { BtfKind, BtfLinkage, type Btf } from '../btf/index.js';
import { SectionType, SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import { MapFlag, MapType } from '../uapi/enums.js';
import type { GlobalSpec, MapSpec } from './spec.js';

const DATA_SECTION = /^\.(rodata|data|bss)(\..*)?$/;

export function isDataSectionName(name: string): boolean {
  return DATA_SECTION.test(name);
}

/** The sections libbpf makes global-data maps of: .data*, .rodata* as PROGBITS, .bss* as NOBITS. */
export function isDataSection(section: ElfSection): boolean {
  if (!isDataSectionName(section.name) || section.size === 0) return false;
  if (section.name === '.bss' || section.name.startsWith('.bss.')) return section.type === SectionType.NOBITS;
  return section.type === SectionType.PROGBITS;
}

/** map_is_mmapable: the DATASEC of the section has a VAR that is not static (a skeleton exposes it). */
export function hasNonStaticVar(btf: Btf | undefined, sectionName: string): boolean {
  const datasec = btf?.find(sectionName, BtfKind.DATASEC);
  if (!btf || !datasec || datasec.kind !== BtfKind.DATASEC) return false;
  return datasec.vars.some((v) => {
    const t = btf.type(v.type);
    return t.kind === BtfKind.VAR && t.linkage !== BtfLinkage.STATIC;
  });
}

export function isReadonlySectionName(name: string): boolean {
  return name === '.rodata' || name.startsWith('.rodata.');
}

export function dataMapFor(file: string, section: ElfSection): MapSpec {
  if (section.type !== SectionType.PROGBITS && section.type !== SectionType.NOBITS) {
    throw new ObjectError(file, `global data section has type ${section.type}, not PROGBITS or NOBITS`, { section: section.name });
  }
  if (section.type === SectionType.PROGBITS && section.data.length !== section.size) {
    throw new ObjectError(file, 'global data section has no bytes in the file', { section: section.name });
  }
  const readonly = isReadonlySectionName(section.name);
  return {
    name: section.name, type: MapType.ARRAY, keySize: 4, valueSize: section.size, maxEntries: 1,
    flags: readonly ? MapFlag.RDONLY_PROG : 0, pinning: 'none', mapExtra: 0n, kind: 'data', section: section.name,
    // A copy: setGlobal() writes here and must never touch the caller's file buffer.
    contents: section.type === SectionType.NOBITS ? Buffer.alloc(section.size) : Buffer.from(section.data),
    readonly,
  };
}

/** The STT_OBJECT symbols of one data section, with their BTF types when the object has BTF. */
export function globalsIn(elf: ElfFile, section: ElfSection, btf: Btf | undefined): GlobalSpec[] {
  const btfTypes = new Map<string, number>();
  const datasec = btf?.find(section.name, BtfKind.DATASEC);
  if (btf && datasec && datasec.kind === BtfKind.DATASEC) {
    for (const v of datasec.vars) {
      const variable = btf.type(v.type);
      if (variable.kind === BtfKind.VAR) btfTypes.set(variable.name, variable.type);
    }
  }
  return elf.symbols
    .filter((s) => s.sectionIndex === section.index && s.type === SymbolType.OBJECT && s.name)
    .map((s) => {
      const g: GlobalSpec = { name: s.name, section: section.name, offset: s.value, size: s.size };
      const typeId = btfTypes.get(s.name);
      if (typeId !== undefined) g.btfTypeId = typeId;
      return g;
    });
}
