// ELF numbers a BPF object uses (from the ELF spec / <elf.h>), named as there without their prefix.

export const ELF_HEADER_SIZE = 64;
export const SECTION_HEADER_SIZE = 64;
/** Elf64_Sym is always 24 bytes; we never trust sh_entsize (elfy misreads it anyway). */
export const SYMBOL_SIZE = 24;
/** Elf64_Rel is always 16 bytes. */
export const REL_SIZE = 16;

export const ElfClass = { ELF64: 2 } as const;
export const ElfData = { LSB: 1 } as const;
export const ElfType = { REL: 1 } as const;
export const EM_BPF = 247;

/** sh_type values. */
export const SectionType = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
} as const;

/** sh_flags bits. */
export const SectionFlag = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;

/** Symbol types (low nibble of st_info). */
export const SymbolType = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
/** Symbol bindings (high nibble of st_info). */
export const SymbolBind = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
/** Symbol visibility (st_other & 3). */
export const SymbolVisibility = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** Special section indexes in st_shndx. */
export const SectionIndex = { UNDEF: 0, LORESERVE: 0xff00, ABS: 0xfff1, COMMON: 0xfff2, XINDEX: 0xffff } as const;

/** BPF relocation types (r_info & 0xffffffff). */
export const RelType = { NONE: 0, R_BPF_64_64: 1, R_BPF_64_ABS64: 2, R_BPF_64_ABS32: 3, R_BPF_64_NODYLD32: 4, R_BPF_64_32: 10 } as const;
