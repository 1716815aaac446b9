// parseObject(): a clang-built BPF ELF object → ObjectSpec (see spec.ts), with no kernel access.
// ELF → BTF → externs → maps (BTF-defined, legacy, global data, .kconfig, struct_ops) → functions →
// relocations → BTF.ext records.
import { basename } from 'node:path';
import { ObjectError } from '../errors.js';
import { Btf, BtfKind, BtfLinkage, parseBtfExt, type BtfExt } from '../btf/index.js';
import { fixDatasecs } from '../btf/fixup.js';
import { readElf, SectionType, SymbolBind, SymbolType, SymbolVisibility, type ElfFile } from '../elf/index.js';
import { distributeBtfExt } from './btf-ext.js';
import { parseBtfMaps, type PlacedMap } from './btf-maps.js';
import { dataMapFor, globalsIn, hasNonStaticVar, isDataSection } from './data.js';
import { collectExterns } from './externs.js';
import { FunctionIndex, isExecutable, splitFunctions, type FunctionSlot } from './functions.js';
import { parseLegacyMaps } from './legacy-maps.js';
import { resolveRelocations } from './relocations.js';
import { lookupSection, splitAutoload } from './sections.js';
import { isStructOpsSection, parseStructOps } from './struct-ops.js';
import { MapFlag, MapType, ProgType } from '../uapi/enums.js';
import type { FunctionSpec, GlobalSpec, MapSpec, ObjectSpec, ProgramSpec } from './spec.js';

const BTF_MAPS_SECTION = '.maps';
const LEGACY_MAPS_SECTION = 'maps';

/** Parse a BPF object. Throws ObjectError (naming file, section, offset) for anything malformed. */
export function parseObject(buf: Buffer, file: string): ObjectSpec {
  const elf = readElf(buf, file);
  const name = objectName(file);
  const btfSection = elf.section('.BTF');
  const btf = btfSection ? Btf.parse(btfSection.data, file, '.BTF') : undefined;
  const extSection = elf.section('.BTF.ext');
  const ext: BtfExt | undefined = extSection && btf ? parseBtfExt(extSection.data, btf, file) : undefined;
  // Externs first: they rewrite .kconfig/.ksyms in the BTF, which the DATASEC fix-ups then leave alone.
  const externs = collectExterns(elf, btf, name, file);
  const symbolIn = (sectionName: string, symbol: string) => {
    const section = elf.section(sectionName);
    return section ? elf.symbols.find((s) => s.sectionIndex === section.index && s.name === symbol) : undefined;
  };
  const btfProblems = btf ? fixDatasecs(btf, {
    sectionSize: (n) => elf.section(n)?.size,
    symbolOffset: (sectionName, symbol) => symbolIn(sectionName, symbol)?.value,
    symbolHidden: (sectionName, symbol) => {
      const v = symbolIn(sectionName, symbol)?.visibility;
      return v === SymbolVisibility.HIDDEN || v === SymbolVisibility.INTERNAL;
    },
  }) : undefined;

  const license = readLicense(elf);
  const kernVersion = readVersion(elf);

  // Maps, with where their symbols are so relocations can find them.
  const maps = new Map<string, MapSpec>();
  const mapSymbols = new Map<number, Map<number, string>>();
  const addMap = (spec: MapSpec, where: string) => {
    if (maps.has(spec.name)) throw new ObjectError(file, `two maps are named ${spec.name} (${where})`, { section: spec.section });
    maps.set(spec.name, spec);
  };
  const addMaps = (sectionIndex: number, placed: PlacedMap[]) => {
    const at = new Map<number, string>();
    for (const { spec, offset } of placed) {
      addMap(spec, spec.section);
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
    if (!isDataSection(section)) continue;
    const spec = dataMapFor(file, section);
    const datasec = btf?.find(section.name, BtfKind.DATASEC);
    if (datasec && datasec.kind === BtfKind.DATASEC && datasec.size === spec.valueSize) spec.btfValueTypeId = datasec.id;
    if (spec.btfValueTypeId && hasNonStaticVar(btf, section.name)) spec.flags |= MapFlag.MMAPABLE;
    addMap(spec, 'global data section');
    dataMaps.set(section.index, spec.name);
    for (const g of globalsIn(elf, section, btf)) if (!globals.has(g.name)) globals.set(g.name, g);
  }
  if (externs.kconfigMap) addMap(externs.kconfigMap, 'the map of .kconfig externs');

  // struct_ops variables.
  for (const section of elf.sections) {
    if (!isStructOpsSection(section.name) || section.size === 0) continue;
    for (const { spec } of parseStructOps(elf, section, btf)) addMap(spec, section.name);
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
    const isProgram = section.name !== '.text' && slots.length > 0;
    const { name: secName, autoload } = splitAutoload(section.name);
    const kind = isProgram ? lookupSection(secName) : undefined;
    for (const slot of slots) {
      if (slotsByName.has(slot.name)) throw new ObjectError(file, `two functions are named ${slot.name}`, { section: section.name, offset: slot.start });
      slotsByName.set(slot.name, slot);
      if (!isProgram) {
        subprograms.set(slot.name, slot.spec);
      } else {
        // The FunctionSpec object becomes the ProgramSpec, so later edits (relocations) reach it.
        // An unknown section gives a program without a type (UNSPEC): load() refuses it unless the
        // caller sets one (or turns autoload off), as libbpf refuses it at load.
        const program = Object.assign(slot.spec, {
          section: secName,
          type: kind?.type ?? 0,
          expectedAttachType: kind?.expectedAttachType ?? 0,
          attachTo: kind?.attachTo ?? '',
          autoload,
          flags: kind?.progFlags ?? 0,
          secFlags: kind?.secFlags ?? 0,
          license,
          kernVersion,
        }) as ProgramSpec;
        programs.set(slot.name, program);
      }
    }
  }
  checkReferences(file, maps, programs);
  if (btf) {
    assignExceptionCallbacks(file, elf, btf, programs, subprograms);
    markHiddenSubprogramsStatic(elf, btf);
  }

  const kconfigMap = externs.kconfigMap?.name;
  const targets = {
    mapAt: (sectionIndex: number, offset: number) => mapSymbols.get(sectionIndex)?.get(offset),
    isMapSection: (sectionIndex: number) => mapSymbols.has(sectionIndex),
    dataMap: (sectionIndex: number) => dataMaps.get(sectionIndex),
    externOf: (symbolIndex: number) => {
      const n = externs.bySymbol.get(symbolIndex);
      return n === undefined ? undefined : externs.externs.get(n);
    },
    kconfigMap,
  };
  for (const section of executable) resolveRelocations(elf, section, functions, targets);
  if (ext) distributeBtfExt(elf, ext, functions);

  return { file, name, license, kernVersion, maps, programs, subprograms, globals, externs: externs.externs, btf, btfProblems };
}

/**
 * libbpf's bpf_prog_assign_exc_cb: a decl tag "exception_callback:NAME" on a program's (global) FUNC
 * names the subprogram the verifier calls when the program throws; nothing calls it, so the loader
 * appends it. It must be a global, non-hidden function of .text.
 */
function assignExceptionCallbacks(file: string, elf: ElfFile, btf: Btf, programs: Map<string, ProgramSpec>, subprograms: Map<string, FunctionSpec>): void {
  const PREFIX = 'exception_callback:';
  const text = elf.section('.text');
  for (const t of btf.types) {
    if (t.kind !== BtfKind.DECL_TAG || t.componentIdx !== -1 || !t.name.startsWith(PREFIX)) continue;
    const fn = btf.type(t.type);
    if (fn.kind !== BtfKind.FUNC) continue;
    const prog = programs.get(fn.name);
    if (!prog) continue;
    if (fn.linkage !== BtfLinkage.GLOBAL) throw new ObjectError(file, `program ${prog.name}: the exception_callback decl tag is not on the main program (libbpf: "exception_callback:<value> decl tag not applied to the main program")`, { section: '.BTF' });
    const name = t.name.slice(PREFIX.length);
    if (!name) throw new ObjectError(file, `program ${prog.name}: its exception_callback decl tag names no function`, { section: '.BTF' });
    if (prog.exceptionCallback !== undefined) {
      // Several callbacks: the verifier refuses it; libbpf appends none.
      prog.exceptionCallback = '';
      continue;
    }
    const sym = elf.symbols.find((s) => s.type === SymbolType.FUNC && s.name === name && text && s.sectionIndex === text.index);
    if (!subprograms.has(name) || !sym) throw new ObjectError(file, `program ${prog.name}: cannot find its exception callback ${name} (libbpf: "cannot find exception callback")`, { section: '.text' });
    if (sym.bind === SymbolBind.LOCAL || sym.visibility === SymbolVisibility.HIDDEN || sym.visibility === SymbolVisibility.INTERNAL) {
      throw new ObjectError(file, `program ${prog.name}: exception callback ${name} must be a global non-hidden function`, { section: '.text' });
    }
    prog.exceptionCallback = name;
  }
}

/**
 * libbpf: a global subprogram with hidden (or internal) visibility has its BTF FUNC made static, so
 * the verifier checks it in its callers' context instead of on its own (usdt.bpf.h's bpf_usdt_arg
 * relies on this: its pointer argument is not nullable in context).
 */
function markHiddenSubprogramsStatic(elf: ElfFile, btf: Btf): void {
  const text = elf.section('.text');
  if (!text) return;
  for (const s of elf.symbols) {
    if (s.type !== SymbolType.FUNC || s.sectionIndex !== text.index || s.bind === SymbolBind.LOCAL) continue;
    if (s.visibility !== SymbolVisibility.HIDDEN && s.visibility !== SymbolVisibility.INTERNAL) continue;
    const f = btf.findByName(s.name, BtfKind.FUNC).find((t) => t.kind === BtfKind.FUNC && t.linkage === BtfLinkage.GLOBAL);
    if (f && f.kind === BtfKind.FUNC) f.linkage = BtfLinkage.STATIC;
  }
}

/** Static initialisers and struct_ops name maps and programs that must exist, with the right types. */
function checkReferences(file: string, maps: Map<string, MapSpec>, programs: Map<string, ProgramSpec>): void {
  for (const m of maps.values()) {
    for (const [slot, target] of m.initSlots ?? []) {
      if (m.type === MapType.PROG_ARRAY) {
        if (!programs.has(target)) throw new ObjectError(file, `PROG_ARRAY ${m.name}: slot ${slot} holds ${target}, which is not an entry-point program of the object`, { section: m.section });
      } else if (!maps.has(target)) {
        throw new ObjectError(file, `map ${m.name}: slot ${slot} holds ${target}, which is not a map of the object`, { section: m.section });
      }
    }
    for (const [member, prog] of m.structOps?.programs ?? []) {
      const p = programs.get(prog);
      if (!p) throw new ObjectError(file, `struct_ops ${m.name}: member ${member} points at ${prog}, which is not a program of the object`, { section: m.section });
      if (p.type !== ProgType.STRUCT_OPS) {
        throw new ObjectError(file, `struct_ops ${m.name}: member ${member} points at ${prog}, which is a ${p.section} program, not SEC("struct_ops/...") (libbpf: "is not struct_ops BPF program")`, { section: m.section });
      }
    }
  }
}

/**
 * libbpf's object name: the file's base name (at most 15 characters) up to its first '.'
 * ("path/to/foo.bpf.o" → "foo"); a buffer without a name → "obj".
 */
export function objectName(file: string): string {
  if (file === '<buffer>') return 'obj';
  const base = basename(file).slice(0, 15);
  const dot = base.indexOf('.');
  return (dot >= 0 ? base.slice(0, dot) : base) || 'obj';
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
