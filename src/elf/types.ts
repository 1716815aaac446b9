// What reading an ELF file produces: its sections, symbols and relocations, validated.

export interface ElfSection {
  index: number;
  name: string;
  /** sh_type number (SectionType). */
  type: number;
  /** sh_flags (SectionFlag bits). */
  flags: number;
  /** File offset of the contents. */
  offset: number;
  size: number;
  link: number;
  info: number;
  /** The section's bytes (a view into the file buffer); zero-length for NOBITS and empty sections. */
  data: Buffer;
}

export interface ElfSymbol {
  index: number;
  name: string;
  /** SymbolType. */
  type: number;
  /** SymbolBind. */
  bind: number;
  /** SymbolVisibility (st_other & 3): DEFAULT, INTERNAL, HIDDEN, PROTECTED. */
  visibility: number;
  /** st_shndx: the section it is defined in, or a SectionIndex special value. */
  sectionIndex: number;
  value: number;
  size: number;
}

export interface ElfRelocation {
  /** Byte offset in the target section. */
  offset: number;
  /** RelType. */
  type: number;
  symbol: ElfSymbol;
}

export interface ElfFile {
  file: string;
  sections: ElfSection[];
  /** Index 0 is the null symbol. Empty when the object has no symbol table. */
  symbols: ElfSymbol[];
  /** REL records by the index of the section they apply to. */
  relocations: Map<number, ElfRelocation[]>;
  /** The first section with this name, if any. */
  section(name: string): ElfSection | undefined;
}
