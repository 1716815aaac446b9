// The legacy `maps` section: an array of records, one per map symbol, all of the same size.
//
// libbpf ≥ 1.0 refuses every object with such a section. We keep reading them (objects built for
// iproute2's tc and for older libbpf still have them, and cilium/ebpf reads them too), with two
// layouts and nothing guessed:
//   struct bpf_map_def (20 bytes)    type, key_size, value_size, max_entries, map_flags
//   struct bpf_elf_map (iproute2)    ... then id, pinning, inner_id, inner_idx (36 bytes)
// Any byte past the fields we understand must be zero (cilium/ebpf's rule: "unknown and non-zero
// fields in definition"). iproute2's pinning is honoured as tc does it: PIN_OBJECT_NS (1) pins at
// /sys/fs/bpf/tc/<sha1 of the object>/NAME, PIN_GLOBAL_NS (2) at /sys/fs/bpf/tc/globals/NAME, both
// reused when they exist. iproute2's map-in-map wiring (id, inner_id, inner_idx) is refused: it
// needs tc's own loader semantics, and a BTF-defined map-in-map says the same thing.
import { ObjectError } from '../errors.js';
import { SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import type { PlacedMap } from './btf-maps.js';
import type { MapSpec } from './spec.js';

/** type, key_size, value_size, max_entries, map_flags. */
const MIN_RECORD = 20;
/** iproute2's struct bpf_elf_map: the five above, then id, pinning, inner_id, inner_idx. */
const ELF_MAP_RECORD = 36;

const PIN_NONE = 0;
const PIN_OBJECT_NS = 1;
const PIN_GLOBAL_NS = 2;

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
    const word = (i: number) => (i * 4 + 4 <= recordSize ? d.readUInt32LE(at + i * 4) : 0);
    const fail = (message: string, offset: number): never => {
      throw new ObjectError(file, `legacy map ${s.name}: ${message}`, { section: section.name, offset });
    };
    const spec: MapSpec = {
      name: s.name, type: word(0), keySize: word(1), valueSize: word(2), maxEntries: word(3), flags: word(4),
      pinning: 'none', mapExtra: 0n, kind: 'map', section: section.name,
    };
    if (recordSize > MIN_RECORD) {
      // iproute2's fields, as far as the record has them.
      const [id, pinning, innerId, innerIdx] = [word(5), word(6), word(7), word(8)];
      if (id || innerId || innerIdx) {
        fail(`iproute2's map-in-map fields are set (id ${id}, inner_id ${innerId}, inner_idx ${innerIdx}); they are not supported: declare the map in SEC(".maps") with __array(values, ...) instead`, at + 20);
      }
      if (pinning === PIN_OBJECT_NS) spec.pinning = 'objectNs';
      else if (pinning === PIN_GLOBAL_NS) spec.pinning = 'globalNs';
      else if (pinning !== PIN_NONE) fail(`pinning ${pinning} is not supported (iproute2: 0 PIN_NONE, 1 PIN_OBJECT_NS, 2 PIN_GLOBAL_NS; custom pinning from /etc/iproute2/bpf_pinning is not)`, at + 24);
    }
    const known = Math.min(recordSize, ELF_MAP_RECORD);
    for (let i = known; i < recordSize; i++) {
      if (d[at + i] !== 0) {
        fail(`its ${recordSize}-byte record has non-zero bytes at offset ${i}, past the fields of struct bpf_map_def and iproute2's struct bpf_elf_map (${ELF_MAP_RECORD} bytes): a definition with fields this loader does not know is refused rather than half understood`, at + i);
      }
    }
    return { offset: at, spec };
  });
}
