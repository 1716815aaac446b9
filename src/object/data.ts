// Global data: every .rodata*, .data* and .bss* section with content becomes a one-element ARRAY map
// named after the section, holding the section's initial bytes; every STT_OBJECT symbol in it is a
// global the user can set before load. .rodata* is read-only for programs (and frozen by the loader).
import { ObjectError } from '../errors.js';
import { BtfKind, type Btf } from '../btf/index.js';
import { SectionType, SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import { MapFlag, MapType } from '../uapi/enums.js';
import type { GlobalSpec, MapSpec } from './spec.js';

const DATA_SECTION = /^\.(rodata|data|bss)(\..*)?$/;

export function isDataSectionName(name: string): boolean {
  return DATA_SECTION.test(name);
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
