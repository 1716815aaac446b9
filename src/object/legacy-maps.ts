// The legacy `maps` section: an array of struct bpf_map_def {type, key_size, value_size, max_entries,
// map_flags} records, possibly longer (iproute2's bpf_elf_map adds id, pinning, ... which we accept
// and ignore). The record size is the section size divided by the number of map symbols in it.
import { ObjectError } from '../errors.js';
import { SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import type { PlacedMap } from './btf-maps.js';

/** type, key_size, value_size, max_entries, map_flags. */
const MIN_RECORD = 20;

export function parseLegacyMaps(elf: ElfFile, section: ElfSection): PlacedMap[] {
  const file = elf.file;
  const symbols = elf.symbols
    .filter((s) => s.sectionIndex === section.index && (s.type === SymbolType.OBJECT || s.type === SymbolType.NOTYPE) && s.name)
    .sort((a, b) => a.value - b.value);
  if (symbols.length === 0) {
    if (section.size === 0) return [];
    throw new ObjectError(file, 'legacy maps section has no map symbols', { section: section.name });
  }
  if (section.data.length !== section.size) throw new ObjectError(file, 'legacy maps section has no bytes in the file', { section: section.name });
  const recordSize = section.size / symbols.length;
  if (!Number.isInteger(recordSize) || recordSize < MIN_RECORD || recordSize % 4 !== 0) {
    throw new ObjectError(file, `legacy maps section size ${section.size} / ${symbols.length} maps gives a record size of ${recordSize}; it must be a whole number ≥ ${MIN_RECORD} and a multiple of 4 (struct bpf_map_def)`, { section: section.name });
  }
  return symbols.map((s) => {
    if (s.value % recordSize !== 0 || s.value + recordSize > section.size) {
      throw new ObjectError(file, `map ${s.name} at offset ${s.value} is not on a ${recordSize}-byte record boundary`, { section: section.name, offset: s.value });
    }
    const d = section.data;
    const at = s.value;
    return {
      offset: at,
      spec: {
        name: s.name, type: d.readUInt32LE(at), keySize: d.readUInt32LE(at + 4), valueSize: d.readUInt32LE(at + 8),
        maxEntries: d.readUInt32LE(at + 12), flags: d.readUInt32LE(at + 16), pinning: 'none', mapExtra: 0n, kind: 'map', section: section.name,
      },
    };
  });
}
