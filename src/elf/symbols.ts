// The symbol table (SHT_SYMTAB), parsed by hand: 24-byte Elf64_Sym records.
import { ObjectError } from '../errors.js';
import { SYMBOL_SIZE, SectionIndex, SectionType, SymbolType } from './constants.js';
import { readCString } from './strings.js';
import type { ElfSection, ElfSymbol } from './types.js';

export function parseSymbols(file: string, symtab: ElfSection, sections: ElfSection[]): ElfSymbol[] {
  const where = (offset: number) => ({ section: symtab.name, offset });
  if (symtab.size % SYMBOL_SIZE !== 0) {
    throw new ObjectError(file, `symbol table size ${symtab.size} is not a multiple of ${SYMBOL_SIZE}`, where(0));
  }
  const strtab = sections[symtab.link];
  if (symtab.link === 0 || strtab === undefined || strtab.type !== SectionType.STRTAB) {
    throw new ObjectError(file, `symbol table's sh_link ${symtab.link} is not a string table section`, where(0));
  }
  const count = symtab.size / SYMBOL_SIZE;
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < count; index++) {
    const at = index * SYMBOL_SIZE;
    const d = symtab.data;
    const nameOff = d.readUInt32LE(at);
    const info = d[at + 4]!;
    const sectionIndex = d.readUInt16LE(at + 6);
    const value = d.readBigUInt64LE(at + 8);
    const size = d.readBigUInt64LE(at + 16);
    const name = readCString(strtab.data, nameOff, { file, section: strtab.name, what: `name of symbol #${index}` });
    const special = sectionIndex === SectionIndex.UNDEF || sectionIndex === SectionIndex.ABS || sectionIndex === SectionIndex.COMMON;
    if (!special && sectionIndex >= sections.length) {
      throw new ObjectError(file, `symbol #${index} "${name}" is in section ${sectionIndex}, but there are only ${sections.length} sections`, where(at + 6));
    }
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ObjectError(file, `symbol #${index} "${name}" has an impossible value ${value} or size ${size}`, where(at + 8));
    }
    const type = info & 0xf;
    // Section symbols usually have no name of their own: give them their section's, as readelf does.
    const shownName = name === '' && type === SymbolType.SECTION && !special && sectionIndex !== 0 ? sections[sectionIndex]!.name : name;
    const symbol: ElfSymbol = { index, name: shownName, type, bind: info >> 4, visibility: d[at + 5]! & 0x3, sectionIndex, value: Number(value), size: Number(size) };
    // A symbol defined in a section must lie inside it (NOBITS sections too: they have a size).
    if (!special && sectionIndex !== 0 && symbol.value + symbol.size > sections[sectionIndex]!.size) {
      throw new ObjectError(file, `symbol "${name}" (offset ${symbol.value}, size ${symbol.size}) extends past the end of section ${sections[sectionIndex]!.name} (size ${sections[sectionIndex]!.size})`, where(at + 8));
    }
    symbols.push(symbol);
  }
  return symbols;
}
