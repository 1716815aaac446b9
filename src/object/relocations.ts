// Turning REL records (and clang's relocation-free same-section calls) into the Relocation records of
// spec.ts, relative to each function's first instruction.
//   ld_imm64 → symbol in .maps/maps          : 'map'
//   ld_imm64 → symbol in .rodata/.data/.bss  : 'data', offset = imm + st_value (imm is the addend for
//                                              section symbols, as clang emits for statics)
//   ld_imm64 → symbol in an executable section: 'func' (callback address; clang leaves src_reg 0)
//   call with src_reg 1 (BPF_PSEUDO_CALL)    : 'call', callee insn = st_value/8 + imm + 1
import { ObjectError } from '../errors.js';
import { SectionFlag, SectionIndex, SymbolType, type ElfFile, type ElfRelocation, type ElfSection } from '../elf/index.js';
import { Pseudo } from '../uapi/enums.js';
import { INSN_SIZE, type FunctionIndex, type FunctionSlot } from './functions.js';
import type { ExternSpec, Relocation } from './spec.js';

/** Opcodes we need to recognise. */
const OP_LD_IMM64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
const OP_CALL = 0x85; // BPF_JMP | BPF_CALL

export interface RelocationTargets {
  /** Map name by (section index, byte offset of the map's symbol) for .maps and maps. */
  mapAt(sectionIndex: number, offset: number): string | undefined;
  isMapSection(sectionIndex: number): boolean;
  /** The global-data map name for a data section index, if it is one. */
  dataMap(sectionIndex: number): string | undefined;
  /** The extern an undefined symbol (by symbol index) stands for. */
  externOf(symbolIndex: number): ExternSpec | undefined;
  /** The name of the .kconfig map (kconfig externs live there). */
  kconfigMap?: string;
}

export function resolveRelocations(elf: ElfFile, section: ElfSection, functions: FunctionIndex, targets: RelocationTargets): void {
  const file = elf.file;
  const records = elf.relocations.get(section.index) ?? [];
  const relocated = new Set<number>();
  for (const rel of records) {
    const fn = functions.containing(section.index, rel.offset);
    if (!fn) {
      throw new ObjectError(file, `relocation at byte ${rel.offset} (symbol ${rel.symbol.name || '#' + rel.symbol.index}) is not inside any function`, { section: section.name, offset: rel.offset });
    }
    relocated.add(rel.offset);
    fn.spec.relocations.push(resolveOne(elf, section, fn, rel, functions, targets));
  }
  // Calls clang resolved itself inside one section carry no REL record: find them by scanning.
  for (const fn of functions.slots(section.index)) {
    for (let at = fn.start; at < fn.end; at += INSN_SIZE) {
      const op = section.data[at]!;
      const src = section.data[at + 1]! >> 4;
      if (relocated.has(at)) {
        if (op === OP_LD_IMM64) at += INSN_SIZE;
        continue;
      }
      if (op === OP_CALL && src === Pseudo.CALL) {
        const targetInsn = at / INSN_SIZE + section.data.readInt32LE(at + 4) + 1;
        const target = calleeAt(elf, section, fn, at, targetInsn * INSN_SIZE, functions, section.index);
        fn.spec.relocations.push({ kind: 'call', insn: (at - fn.start) / INSN_SIZE, target: target.name, symbol: target.name });
      } else if (op === OP_LD_IMM64) {
        if (src === Pseudo.FUNC) {
          const targetInsn = at / INSN_SIZE + section.data.readInt32LE(at + 4) + 1;
          const target = calleeAt(elf, section, fn, at, targetInsn * INSN_SIZE, functions, section.index);
          fn.spec.relocations.push({ kind: 'func', insn: (at - fn.start) / INSN_SIZE, target: target.name, symbol: target.name });
        }
        at += INSN_SIZE; // the second half of ld_imm64 is not an instruction of its own
      }
    }
    fn.spec.relocations.sort((a, b) => a.insn - b.insn);
  }
}

function resolveOne(elf: ElfFile, section: ElfSection, fn: FunctionSlot, rel: ElfRelocation, functions: FunctionIndex, targets: RelocationTargets): Relocation {
  const file = elf.file;
  const insn = (rel.offset - fn.start) / INSN_SIZE;
  const sym = rel.symbol;
  const symName = sym.name || `#${sym.index}`;
  const where = `program ${fn.name}, instruction ${insn} (symbol ${symName})`;
  const fail = (message: string): never => {
    throw new ObjectError(file, `${where}: ${message}`, { section: section.name, offset: rel.offset });
  };
  const op = section.data[rel.offset]!;
  const src = section.data[rel.offset + 1]! >> 4;
  const imm = section.data.readInt32LE(rel.offset + 4);

  if (sym.sectionIndex === SectionIndex.UNDEF) {
    const ext = targets.externOf(sym.index);
    if (!ext) return fail(`refers to the undefined symbol ${symName}, which is no __kconfig or __ksym extern: link the object (bpftool gen object) or define it`);
    if (op === OP_CALL) {
      if (ext.kind !== 'ksym' || !ext.ksym?.func) fail(`calls extern ${ext.name}, which is not a kernel function (__ksym)`);
      return { kind: 'kfunc', insn, extern: ext.name, symbol: symName };
    }
    if (op !== OP_LD_IMM64) fail(`relocation for extern ${ext.name} on opcode 0x${op.toString(16)}, which is neither ld_imm64 nor a call`);
    if (rel.offset + 2 * INSN_SIZE > fn.end) fail('ld_imm64 instruction is cut off by the end of the function');
    if (ext.kind === 'kconfig') {
      // The kconfig value's slot in the .kconfig map (libbpf sets insn[1].imm to it, ignoring the addend).
      return { kind: 'data', insn, map: targets.kconfigMap!, offset: ext.kconfig!.offset, symbol: symName };
    }
    return { kind: 'ksym', insn, extern: ext.name, symbol: symName };
  }
  if (sym.sectionIndex >= elf.sections.length) fail(`refers to special section index ${sym.sectionIndex}, which is not supported`);
  const targetSection = elf.sections[sym.sectionIndex]!;
  const targetIsCode = (targetSection.flags & SectionFlag.EXECINSTR) !== 0;

  if (op === OP_LD_IMM64) {
    if (rel.offset + 2 * INSN_SIZE > fn.end) fail('ld_imm64 instruction is cut off by the end of the function');
    if (targets.isMapSection(sym.sectionIndex)) {
      const mapOffset = sym.type === SymbolType.SECTION ? imm : sym.value;
      const map = targets.mapAt(sym.sectionIndex, mapOffset);
      if (map === undefined) fail(`no map is defined at offset ${mapOffset} of section ${targetSection.name}`);
      return { kind: 'map', insn, map: map!, symbol: sym.name || map! };
    }
    const dataMap = targets.dataMap(sym.sectionIndex);
    if (dataMap !== undefined) {
      const offset = imm + sym.value;
      if (offset < 0 || offset > targetSection.size) fail(`offset ${offset} is outside ${targetSection.name} (size ${targetSection.size})`);
      return { kind: 'data', insn, map: dataMap, offset, symbol: sym.name || targetSection.name };
    }
    if (targetIsCode) {
      // clang writes the callback's byte offset into imm; a function symbol has it in st_value.
      const callee = calleeAt(elf, section, fn, rel.offset, sym.value + (sym.type === SymbolType.SECTION ? imm : 0), functions, sym.sectionIndex);
      return { kind: 'func', insn, target: callee.name, symbol: sym.name || callee.name };
    }
    return fail(`refers to section ${targetSection.name}, which is neither a map, global data nor code`);
  }
  if (op === OP_CALL && src === Pseudo.CALL) {
    if (!targetIsCode) fail(`call target is in non-executable section ${targetSection.name}`);
    const targetInsn = sym.value / INSN_SIZE + imm + 1;
    const callee = calleeAt(elf, section, fn, rel.offset, targetInsn * INSN_SIZE, functions, sym.sectionIndex);
    return { kind: 'call', insn, target: callee.name, symbol: sym.name || callee.name };
  }
  return fail(`relocation on instruction opcode 0x${op.toString(16)}, which is neither ld_imm64 nor a bpf-to-bpf call`);
}

/** The function starting at `targetByte` of section `targetSection`, or an ObjectError. */
function calleeAt(elf: ElfFile, section: ElfSection, fn: FunctionSlot, at: number, targetByte: number, functions: FunctionIndex, targetSection: number): FunctionSlot {
  const callee = functions.startingAt(targetSection, targetByte);
  if (!callee) {
    const name = elf.sections[targetSection]?.name ?? `#${targetSection}`;
    throw new ObjectError(elf.file, `program ${fn.name}, instruction ${(at - fn.start) / INSN_SIZE}: call or function reference to byte ${targetByte} of ${name}, which is not the start of a known function`, { section: section.name, offset: at });
  }
  return callee;
}
