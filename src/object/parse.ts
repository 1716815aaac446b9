// parseObject(): a clang-built BPF ELF object → ObjectSpec (see spec.ts), with no kernel access.
// ELF → BTF → maps (BTF-defined, legacy, global data) → functions → relocations → BTF.ext records.
import { basename } from 'node:path';
import { ObjectError } from '../errors.js';
import { Btf, BtfKind, parseBtfExt, type BtfExt } from '../btf/index.js';
import { fixDatasecs } from '../btf/fixup.js';
import { readElf, SectionType, type ElfFile } from '../elf/index.js';
import { distributeBtfExt } from './btf-ext.js';
import { parseBtfMaps, type PlacedMap } from './btf-maps.js';
import { dataMapFor, globalsIn, isDataSectionName } from './data.js';
import { FunctionIndex, isExecutable, splitFunctions, type FunctionSlot } from './functions.js';
import { parseLegacyMaps } from './legacy-maps.js';
import { resolveRelocations } from './relocations.js';
import { programKindOf } from './sections.js';
import type { FunctionSpec, GlobalSpec, MapSpec, ObjectSpec, ProgramSpec } from './spec.js';

const BTF_MAPS_SECTION = '.maps';
const LEGACY_MAPS_SECTION = 'maps';

/** Parse a BPF object. Throws ObjectError (naming file, section, offset) for anything malformed. */
export function parseObject(buf: Buffer, file: string): ObjectSpec {
  const elf = readElf(buf, file);
  const btfSection = elf.section('.BTF');
  const btf = btfSection ? Btf.parse(btfSection.data, file, '.BTF') : undefined;
  const extSection = elf.section('.BTF.ext');
  const ext: BtfExt | undefined = extSection && btf ? parseBtfExt(extSection.data, btf, file) : undefined;
  const btfProblems = btf ? fixDatasecs(btf, {
    sectionSize: (name) => elf.section(name)?.size,
    symbolOffset: (sectionName, name) => {
      const section = elf.section(sectionName);
      return section ? elf.symbols.find((s) => s.sectionIndex === section.index && s.name === name)?.value : undefined;
    },
  }) : undefined;

  const license = readLicense(elf);
  const kernVersion = readVersion(elf);

  // Maps, with where their symbols are so relocations can find them.
  const maps = new Map<string, MapSpec>();
  const mapSymbols = new Map<number, Map<number, string>>();
  const addMaps = (sectionIndex: number, placed: PlacedMap[]) => {
    const at = new Map<number, string>();
    for (const { spec, offset } of placed) {
      if (maps.has(spec.name)) throw new ObjectError(file, `two maps are named ${spec.name}`, { section: spec.section });
      maps.set(spec.name, spec);
      at.set(offset, spec.name);
    }
    mapSymbols.set(sectionIndex, at);
  };
  const btfMaps = elf.section(BTF_MAPS_SECTION);
  if (btfMaps) addMaps(btfMaps.index, parseBtfMaps(elf, btfMaps, btf));
  const legacyMaps = elf.section(LEGACY_MAPS_SECTION);
  if (legacyMaps) addMaps(legacyMaps.index, parseLegacyMaps(elf, legacyMaps));

  // Global data.
  const dataMaps = new Map<number, string>();
  const globals = new Map<string, GlobalSpec>();
  for (const section of elf.sections) {
    if (!isDataSectionName(section.name) || section.size === 0 || section.type === SectionType.NULL) continue;
    const spec = dataMapFor(file, section);
    if (maps.has(spec.name)) throw new ObjectError(file, `global data section ${spec.name} clashes with a map of the same name`, { section: section.name });
    const datasec = btf?.find(section.name, BtfKind.DATASEC);
    if (datasec && datasec.kind === BtfKind.DATASEC && datasec.size === spec.valueSize) spec.btfValueTypeId = datasec.id;
    maps.set(spec.name, spec);
    dataMaps.set(section.index, spec.name);
    for (const g of globalsIn(elf, section, btf)) if (!globals.has(g.name)) globals.set(g.name, g);
  }

  // Functions: programs in program sections, subprograms in .text.
  const functions = new FunctionIndex();
  const programs = new Map<string, ProgramSpec>();
  const subprograms = new Map<string, FunctionSpec>();
  const slotsByName = new Map<string, FunctionSlot>();
  const executable = elf.sections.filter((s) => isExecutable(s) && s.type === SectionType.PROGBITS);
  for (const section of executable) {
    const slots = splitFunctions(elf, section);
    functions.add(section.index, slots);
    const kind = section.name === '.text' || slots.length === 0 ? undefined : programKindOf(file, section.name);
    for (const slot of slots) {
      if (slotsByName.has(slot.name)) throw new ObjectError(file, `two functions are named ${slot.name}`, { section: section.name, offset: slot.start });
      slotsByName.set(slot.name, slot);
      if (!kind) {
        subprograms.set(slot.name, slot.spec);
      } else {
        // The FunctionSpec object becomes the ProgramSpec, so later edits (relocations) reach it.
        const program = Object.assign(slot.spec, { ...kind, license, kernVersion }) as ProgramSpec;
        programs.set(slot.name, program);
      }
    }
  }

  const targets = {
    mapAt: (sectionIndex: number, offset: number) => mapSymbols.get(sectionIndex)?.get(offset),
    isMapSection: (sectionIndex: number) => mapSymbols.has(sectionIndex),
    dataMap: (sectionIndex: number) => dataMaps.get(sectionIndex),
  };
  for (const section of executable) resolveRelocations(elf, section, functions, targets);
  if (ext) distributeBtfExt(elf, ext, functions);

  return { file, name: objectName(file), license, kernVersion, maps, programs, subprograms, globals, btf, btfProblems };
}

/** "path/to/foo.bpf.o" → "foo"; a buffer without a name → "obj". */
export function objectName(file: string): string {
  if (file === '<buffer>') return 'obj';
  const base = basename(file).replace(/\.bpf\.o$/, '').replace(/\.o$/, '');
  return base || 'obj';
}

function readLicense(elf: ElfFile): string {
  const section = elf.section('license');
  if (!section) return '';
  const end = section.data.indexOf(0);
  return section.data.toString('utf8', 0, end < 0 ? section.data.length : end);
}

function readVersion(elf: ElfFile): number {
  const section = elf.section('version');
  if (!section) return 0;
  if (section.data.length !== 4) {
    throw new ObjectError(elf.file, `the version section must hold one u32, but it has ${section.data.length} bytes`, { section: 'version' });
  }
  return section.data.readUInt32LE(0);
}
