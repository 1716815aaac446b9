// Splitting executable sections into functions: each STT_FUNC symbol's st_value/st_size delimit one
// function (a program in a program section, a subprogram in .text). Instructions are copied so that
// users editing a spec never write into the file's buffer.
import { ObjectError } from '../errors.js';
import { SectionFlag, SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import type { FunctionSpec } from './spec.js';

export const INSN_SIZE = 8;

/** A function and where it lies in its section (byte offsets). */
export interface FunctionSlot {
  name: string;
  section: ElfSection;
  start: number;
  end: number;
  spec: FunctionSpec;
}

export function isExecutable(section: ElfSection): boolean {
  return (section.flags & SectionFlag.EXECINSTR) !== 0;
}

/** The functions of one executable section, sorted by offset, checked for overlaps and alignment. */
export function splitFunctions(elf: ElfFile, section: ElfSection): FunctionSlot[] {
  const file = elf.file;
  if (section.size % INSN_SIZE !== 0) {
    throw new ObjectError(file, `executable section size ${section.size} is not a multiple of ${INSN_SIZE} (one instruction)`, { section: section.name });
  }
  if (section.size > 0 && section.data.length !== section.size) {
    throw new ObjectError(file, 'executable section has no bytes in the file (NOBITS?)', { section: section.name });
  }
  const symbols = elf.symbols
    .filter((s) => s.type === SymbolType.FUNC && s.sectionIndex === section.index)
    .sort((a, b) => a.value - b.value);
  const slots: FunctionSlot[] = [];
  let previousEnd = 0;
  for (const s of symbols) {
    if (s.value % INSN_SIZE !== 0 || s.size % INSN_SIZE !== 0 || s.size === 0) {
      throw new ObjectError(file, `function ${s.name} (offset ${s.value}, size ${s.size}) is not a whole number of instructions`, { section: section.name, offset: s.value });
    }
    if (s.value < previousEnd) {
      throw new ObjectError(file, `function ${s.name} (offset ${s.value}) overlaps the function before it`, { section: section.name, offset: s.value });
    }
    previousEnd = s.value + s.size;
    slots.push({
      name: s.name, section, start: s.value, end: s.value + s.size,
      spec: {
        name: s.name, section: section.name,
        instructions: Buffer.from(section.data.subarray(s.value, s.value + s.size)),
        relocations: [], funcInfo: [], lineInfo: [], coreRelos: [],
      },
    });
  }
  if (slots.length === 0 && section.size > 0) {
    throw new ObjectError(file, `executable section has code but no function symbol: compile with clang -O2 -target bpf and do not strip symbols`, { section: section.name });
  }
  return slots;
}

/** Finds functions by section and byte offset (binary search: vmlinux-scale objects are not our case, but big programs are). */
export class FunctionIndex {
  private readonly bySection = new Map<number, FunctionSlot[]>();

  add(sectionIndex: number, slots: FunctionSlot[]): void {
    this.bySection.set(sectionIndex, slots);
  }

  slots(sectionIndex: number): FunctionSlot[] {
    return this.bySection.get(sectionIndex) ?? [];
  }

  /** The function containing byte `offset` of the section, if any. */
  containing(sectionIndex: number, offset: number): FunctionSlot | undefined {
    const slots = this.slots(sectionIndex);
    let lo = 0;
    let hi = slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = slots[mid]!;
      if (offset < s.start) hi = mid - 1;
      else if (offset >= s.end) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** The function starting exactly at byte `offset` of the section, if any. */
  startingAt(sectionIndex: number, offset: number): FunctionSlot | undefined {
    const s = this.containing(sectionIndex, offset);
    return s && s.start === offset ? s : undefined;
  }
}
