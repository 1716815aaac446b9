// readElf(): a BPF object's sections, symbols and relocations, every offset and index checked.
// elfy reads the header and section table; we check what it read, and parse symbols and
// relocations ourselves. Anything malformed becomes an ObjectError naming file, section and offset.
import { ObjectError } from '../errors.js';
import { ELF_HEADER_SIZE, SECTION_HEADER_SIZE, SectionType } from './constants.js';
import { elfy, sectionFlagsNumber, sectionTypeNumber, type ElfyHeader } from './elfy.js';
import { checkElfHeader } from './header.js';
import { parseRelocations } from './relocations.js';
import { readCString } from './strings.js';
import { parseSymbols } from './symbols.js';
import type { ElfFile, ElfRelocation, ElfSection } from './types.js';

export function readElf(buf: Buffer, file: string): ElfFile {
  const facts = checkElfHeader(buf, file);
  let parsed: ElfyHeader;
  try {
    parsed = elfy.parse(buf);
  } catch (err) {
    throw new ObjectError(file, `unreadable ELF section table: ${(err as Error).message}`, { offset: facts.shoff });
  }
  const raw = parsed.body.sections;
  if (!Array.isArray(raw) || raw.length !== facts.shnum) {
    throw new ObjectError(file, `expected ${facts.shnum} section headers, read ${raw?.length}`, { offset: facts.shoff });
  }

  const sections = raw.map((s, index): ElfSection => {
    const headerAt = facts.shoff + index * SECTION_HEADER_SIZE;
    const type = sectionTypeNumber(s.type);
    const offset = Number(s.off);
    const size = Number(s.size);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size)) {
      throw new ObjectError(file, `section #${index} has an impossible offset or size`, { offset: headerAt });
    }
    const hasBytes = type !== SectionType.NOBITS && type !== SectionType.NULL && size > 0;
    if (hasBytes && (offset < ELF_HEADER_SIZE || offset + size > buf.length)) {
      throw new ObjectError(file, `section #${index} (offset ${offset}, size ${size}) lies outside the file (${buf.length} bytes): truncated?`, { offset: headerAt });
    }
    return {
      index, name: '', type, flags: sectionFlagsNumber(s.flags), offset, size, link: s.link, info: s.info,
      data: hasBytes ? buf.subarray(offset, offset + size) : Buffer.alloc(0),
    };
  });

  // Names: resolved ourselves so that a bad sh_name is an error, not a silently empty string.
  const shstrtab = sections[facts.shstrndx]!;
  if (shstrtab.type !== SectionType.STRTAB) {
    throw new ObjectError(file, `section name table (#${facts.shstrndx}) is not a string table`, { offset: 62 });
  }
  for (const section of sections) {
    const nameOff = buf.readUInt32LE(facts.shoff + section.index * SECTION_HEADER_SIZE);
    section.name = readCString(shstrtab.data, nameOff, { file, section: '.shstrtab', what: `name of section #${section.index}` });
  }
  checkNoOverlap(file, sections, facts);

  const symtabs = sections.filter((s) => s.type === SectionType.SYMTAB);
  if (symtabs.length > 1) throw new ObjectError(file, 'more than one symbol table', { section: symtabs[1]!.name });
  const symtab = symtabs[0];
  const symbols = symtab ? parseSymbols(file, symtab, sections) : [];

  const relocations = new Map<number, ElfRelocation[]>();
  for (const section of sections) {
    if (section.type === SectionType.RELA) {
      throw new ObjectError(file, 'RELA relocations are not used by BPF objects; rebuild with clang -target bpf', { section: section.name });
    }
    if (section.type !== SectionType.REL) continue;
    const records = parseRelocations(file, section, sections, symbols, symtab?.index ?? 0);
    const list = relocations.get(section.info) ?? [];
    list.push(...records);
    relocations.set(section.info, list);
  }

  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  return { file, sections, symbols, relocations, section: (name) => byName.get(name) };
}

/** Sections with bytes in the file must not overlap each other, the ELF header or the section table. */
function checkNoOverlap(file: string, sections: ElfSection[], facts: { shoff: number; shnum: number }): void {
  const ranges = sections
    .filter((s) => s.data.length > 0)
    .map((s) => ({ name: s.name, start: s.offset, end: s.offset + s.size }));
  ranges.push({ name: '<section header table>', start: facts.shoff, end: facts.shoff + facts.shnum * SECTION_HEADER_SIZE });
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.start < prev.end) {
      throw new ObjectError(file, `section ${cur.name} (offset ${cur.start}) overlaps ${prev.name} (ends at ${prev.end})`, { section: cur.name, offset: cur.start });
    }
  }
}
