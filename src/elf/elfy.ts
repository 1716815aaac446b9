// The part of the `elfy` package we use: its ELF header and section table. elfy is CommonJS without
// types, and throws plain Error/AssertionError (or TypeError/RangeError) on bad input, so callers
// must wrap it. Its ELF64 sh_addralign and sh_entsize are read at the wrong offsets (46/54 instead
// of 48/56): never use those two fields.
import elfyModule from 'elfy';

export interface ElfyHeader {
  class: string;
  endian: string;
  type: string | number | undefined;
  machine: string | undefined;
  shoff: number;
  shnum: number;
  shstrndx: number;
  shentsize: number;
  body: { sections: ElfySection[] };
}

export interface ElfySection {
  name: string;
  /** elfy maps known sh_type numbers to names ("progbits", "rel", ...); unknown ones stay numbers. */
  type: string | number;
  /** elfy maps known sh_flags bits to names ("write", "alloc", "execinstr"); unknown bits stay numbers. */
  flags: Record<string, boolean>;
  off: number;
  size: number;
  link: number;
  info: number;
}

interface Elfy {
  parse(buf: Buffer): ElfyHeader;
  constants: { sectType: Record<string, string>; sectFlags: Record<string, string> };
}

export const elfy = elfyModule as Elfy;

const sectionTypeNumbers = new Map(Object.entries(elfy.constants.sectType).map(([num, name]) => [name, Number(num)]));
const sectionFlagBits = new Map(Object.entries(elfy.constants.sectFlags).map(([bit, name]) => [name, Number(bit)]));

/** sh_type as a number again. */
export function sectionTypeNumber(type: string | number): number {
  if (typeof type === 'number') return type;
  return sectionTypeNumbers.get(type) ?? -1;
}

/** sh_flags (low 32 bits) as a number again. */
export function sectionFlagsNumber(flags: Record<string, boolean>): number {
  let value = 0;
  for (const name of Object.keys(flags)) {
    const bit = sectionFlagBits.get(name) ?? Number(name);
    if (Number.isInteger(bit)) value = (value | bit) >>> 0;
  }
  return value;
}
