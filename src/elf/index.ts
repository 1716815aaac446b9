// ELF reading for BPF objects.
export { readElf } from './reader.js';
export { readCString } from './strings.js';
export * from './constants.js';
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation } from './types.js';
