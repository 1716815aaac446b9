// SHT_REL sections, parsed by hand: 16-byte Elf64_Rel records (r_offset, r_info = sym << 32 | type).
import { ObjectError } from '../errors.js';
import { REL_SIZE, SectionFlag, SectionType } from './constants.js';
import type { ElfRelocation, ElfSection, ElfSymbol } from './types.js';

export function parseRelocations(file: string, rel: ElfSection, sections: ElfSection[], symbols: ElfSymbol[], symtabIndex: number): ElfRelocation[] {
  const where = (offset: number) => ({ section: rel.name, offset });
  if (rel.size % REL_SIZE !== 0) throw new ObjectError(file, `relocation section size ${rel.size} is not a multiple of ${REL_SIZE}`, where(0));
  if (rel.link !== symtabIndex || symtabIndex === 0) {
    throw new ObjectError(file, `relocation section's sh_link ${rel.link} is not the symbol table`, where(0));
  }
  const target = sections[rel.info];
  if (rel.info === 0 || target === undefined) {
    throw new ObjectError(file, `relocation section applies to section ${rel.info}, which does not exist`, where(0));
  }
  const executable = (target.flags & SectionFlag.EXECINSTR) !== 0;
  const out: ElfRelocation[] = [];
  for (let at = 0; at < rel.size; at += REL_SIZE) {
    const offset = rel.data.readBigUInt64LE(at);
    const type = rel.data.readUInt32LE(at + 8);
    const symbolIndex = rel.data.readUInt32LE(at + 12);
    if (offset >= BigInt(target.size)) {
      throw new ObjectError(file, `relocation offset ${offset} is outside section ${target.name} (size ${target.size})`, where(at));
    }
    if (executable && offset % 8n !== 0n) {
      throw new ObjectError(file, `relocation offset ${offset} in ${target.name} is not on an instruction boundary (8 bytes)`, where(at));
    }
    const symbol = symbols[symbolIndex];
    if (symbol === undefined || symbolIndex === 0) {
      throw new ObjectError(file, `relocation at ${target.name}+${offset} names symbol #${symbolIndex}, which does not exist (${symbols.length} symbols)`, where(at + 12));
    }
    out.push({ offset: Number(offset), type, symbol });
  }
  return out;
}

