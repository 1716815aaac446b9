// BTF-defined maps (SEC(".maps")): each map is a VAR in DATASEC ".maps" whose type is a STRUCT built
// by bpf_helpers.h's macros. __uint(n, v) is `int (*n)[v]` (PTR → ARRAY with nelems v);
// __type(key, T) is `T *key`; __array(values, S) is a zero-length ARRAY of PTR → STRUCT S (the
// inner map of a map-in-map). The section's bytes are zero: everything comes from BTF.
import { ObjectError } from '../errors.js';
import { Btf, BtfKind, btfKindName, type BtfComposite, type BtfMember } from '../btf/index.js';
import { SectionFlag, SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import { MapType } from '../uapi/enums.js';
import type { MapSpec } from './spec.js';

/** A map definition and the offset of its symbol in the section (for relocations). */
export interface PlacedMap { spec: MapSpec; offset: number }

export function parseBtfMaps(elf: ElfFile, section: ElfSection, btf: Btf | undefined): PlacedMap[] {
  const file = elf.file;
  if (!btf) {
    throw new ObjectError(file, 'BTF-defined maps need the .BTF section: compile with clang -g', { section: section.name });
  }
  const datasec = btf.find(section.name, BtfKind.DATASEC);
  if (!datasec || datasec.kind !== BtfKind.DATASEC) {
    throw new ObjectError(file, `no BTF DATASEC describes section ${section.name}: compile with clang -g`, { section: section.name });
  }
  const symbols = new Map<string, { value: number; size: number }>();
  for (const s of elf.symbols) {
    if (s.sectionIndex === section.index && s.type !== SymbolType.SECTION && s.name) symbols.set(s.name, { value: s.value, size: s.size });
  }
  const maps: PlacedMap[] = [];
  const defs: { spec: MapSpec; offset: number; size: number; def: BtfComposite }[] = [];
  for (const v of datasec.vars) {
    const variable = btf.type(v.type);
    if (variable.kind !== BtfKind.VAR) {
      throw new ObjectError(file, `DATASEC ${section.name} entry type id ${v.type} is a ${btfKindName(variable.kind)}, not a VAR`, { section: '.BTF' });
    }
    const sym = symbols.get(variable.name);
    if (sym === undefined) {
      throw new ObjectError(file, `map ${variable.name} is in BTF but has no symbol in ${section.name}`, { section: section.name });
    }
    const offset = sym.value;
    const def = btf.skipQualifiers(variable.type);
    if (def.kind !== BtfKind.STRUCT) {
      throw new ObjectError(file, `map ${variable.name}: its definition is a ${btfKindName(def.kind)}, not a struct`, { section: section.name, offset });
    }
    const spec = parseMapDefinition(file, section.name, btf, variable.name, def, true);
    maps.push({ spec, offset });
    defs.push({ spec, offset, size: sym.size || def.size, def });
  }
  collectInitSlots(elf, section, btf, defs);
  return maps;
}

/**
 * `.values = { [i] = &x }` initialisers of map-in-map and PROG_ARRAY maps: one R_BPF_64_ABS64 record
 * in .rel.maps per slot, inside the map variable's `values` member (libbpf's
 * bpf_object__collect_map_relos). Slot i is at `values` + 8*i.
 */
function collectInitSlots(elf: ElfFile, section: ElfSection, btf: Btf, defs: { spec: MapSpec; offset: number; size: number; def: BtfComposite }[]): void {
  const file = elf.file;
  for (const rel of elf.relocations.get(section.index) ?? []) {
    const fail = (message: string): never => {
      throw new ObjectError(file, message, { section: `.rel${section.name}`, offset: rel.offset });
    };
    const name = rel.symbol.name || `#${rel.symbol.index}`;
    const d = defs.find((x) => x.offset <= rel.offset && rel.offset + 8 <= x.offset + x.size);
    if (!d) fail(`a static initialiser points at ${name}, but no map is defined at byte ${rel.offset} of ${section.name}`);
    const { spec, def } = d!;
    const isMapInMap = spec.type === MapType.ARRAY_OF_MAPS || spec.type === MapType.HASH_OF_MAPS;
    const isProgArray = spec.type === MapType.PROG_ARRAY;
    if (!isMapInMap && !isProgArray) fail(`map ${spec.name} has a static initialiser (${name}), but only map-in-map and PROG_ARRAY maps can be initialised`);
    const last = def.members[def.members.length - 1];
    if (!last || last.name !== 'values') fail(`map ${spec.name}: a static initialiser (${name}) needs the __array(values, ...) member, last in the definition`);
    const moff = last!.bitOffset / 8;
    const within = rel.offset - d!.offset - moff;
    if (within < 0 || within % 8 !== 0) fail(`map ${spec.name}: the initialiser of ${name} is not on a slot of its values array`);
    if (isMapInMap) {
      if (rel.symbol.sectionIndex !== section.index) fail(`map ${spec.name}: slot ${within / 8} holds ${name}, which is not a BTF-defined map (libbpf: "isn't a BTF-defined map")`);
      if (spec.type === MapType.HASH_OF_MAPS && spec.keySize !== 4) fail(`hash-of-maps ${spec.name} should have key size 4 to be initialised statically, not ${spec.keySize}`);
    } else {
      const target = elf.sections[rel.symbol.sectionIndex];
      if (!target || !(target.flags & SectionFlag.EXECINSTR) || rel.symbol.type !== SymbolType.FUNC) {
        fail(`PROG_ARRAY ${spec.name}: slot ${within / 8} holds ${name}, which is not a program (libbpf: "isn't a valid program reference")`);
      }
      if (target!.name === '.text') fail(`PROG_ARRAY ${spec.name}: slot ${within / 8} holds ${name}, a subprogram in .text, not an entry-point program`);
    }
    spec.initSlots ??= new Map();
    spec.initSlots.set(within / 8, rel.symbol.name);
  }
  void btf;
}

function parseMapDefinition(file: string, sectionName: string, btf: Btf, name: string, def: BtfComposite, allowInner: boolean): MapSpec {
  const fail = (message: string): never => {
    throw new ObjectError(file, `map ${name}: ${message}`, { section: sectionName });
  };
  const spec: MapSpec = {
    name, type: -1, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, pinning: 'none', mapExtra: 0n, kind: 'map', section: sectionName,
  };
  let keySizeGiven: number | undefined;
  let valueSizeGiven: number | undefined;
  let valuesArray = false;

  /** The value of __uint(name, value): PTR → ARRAY, nelems. */
  const uint = (m: BtfMember): number => {
    const ptr = btf.skipQualifiers(m.type);
    if (ptr.kind === BtfKind.PTR) {
      const array = btf.skipQualifiers(ptr.type);
      if (array.kind === BtfKind.ARRAY) return array.nelems;
    }
    return fail(`member ${m.name} must be declared with __uint(${m.name}, value)`);
  };
  /** The type T of __type(name, T): PTR → T. */
  const pointee = (m: BtfMember): number => {
    const ptr = btf.skipQualifiers(m.type);
    if (ptr.kind !== BtfKind.PTR) fail(`member ${m.name} must be declared with __type(${m.name}, T)`);
    return (ptr as { type: number }).type;
  };

  for (const m of def.members) {
    switch (m.name) {
      case 'type': spec.type = uint(m); break;
      case 'max_entries': spec.maxEntries = uint(m); break;
      case 'map_flags': spec.flags = uint(m); break;
      case 'key_size': keySizeGiven = uint(m); break;
      case 'value_size': valueSizeGiven = uint(m); break;
      case 'map_extra': spec.mapExtra = mapExtra(btf, m, uint); break;
      case 'pinning': {
        const pinning = uint(m);
        if (!allowInner) fail('an inner map cannot be pinned');
        if (pinning !== 0 && pinning !== 1) fail(`pinning ${pinning} is not supported (0 = LIBBPF_PIN_NONE, 1 = LIBBPF_PIN_BY_NAME)`);
        spec.pinning = pinning === 1 ? 'byName' : 'none';
        break;
      }
      case 'key': {
        const t = pointee(m);
        spec.keySize = btf.sizeOf(t);
        spec.btfKeyTypeId = t;
        break;
      }
      case 'value': {
        const t = pointee(m);
        spec.valueSize = btf.sizeOf(t);
        spec.btfValueTypeId = t;
        break;
      }
      case 'values': {
        if (!allowInner) fail('an inner map cannot itself hold maps (libbpf: "multi-level inner maps not supported")');
        if (m !== def.members[def.members.length - 1]) fail('member values must be the last one in the definition');
        const isMapInMap = spec.type === MapType.ARRAY_OF_MAPS || spec.type === MapType.HASH_OF_MAPS;
        if (!isMapInMap && spec.type !== MapType.PROG_ARRAY) fail('__array(values, ...) is only for map-in-map (ARRAY_OF_MAPS, HASH_OF_MAPS) and PROG_ARRAY maps');
        if (valueSizeGiven !== undefined && valueSizeGiven !== 4) fail(`value_size must be 4 for a ${isMapInMap ? 'map of maps' : 'PROG_ARRAY'}, not ${valueSizeGiven}`);
        const array = btf.skipQualifiers(m.type);
        if (array.kind !== BtfKind.ARRAY || array.nelems !== 0) fail('member values must be declared with __array(values, ...), a zero-sized array');
        const ptr = btf.skipQualifiers((array as { type: number }).type);
        if (ptr.kind !== BtfKind.PTR) fail(`__array(values, ...) holds ${btfKindName(ptr.kind)}, not pointers`);
        const target = btf.skipQualifiers((ptr as { type: number }).type);
        valuesArray = true;
        if (!isMapInMap) {
          if (target.kind !== BtfKind.FUNC_PROTO) fail(`the values of a PROG_ARRAY are programs: declare them __array(values, int (void *)), not ${btfKindName(target.kind)}`);
          break;
        }
        if (target.kind !== BtfKind.STRUCT) return fail(`__array(values, ...) of a map-in-map must name a map definition struct, not ${btfKindName(target.kind)}`);
        spec.innerMap = parseMapDefinition(file, sectionName, btf, `${name}.inner`, target, false);
        break;
      }
      case 'numa_node': spec.numaNode = uint(m); break;
      default:
        fail(`unknown member "${m.name}" in the map definition (known: type, key, value, key_size, value_size, max_entries, map_flags, numa_node, pinning, values, map_extra)`);
    }
  }
  if (spec.type < 0) fail('has no __uint(type, BPF_MAP_TYPE_...)');
  if (keySizeGiven !== undefined) {
    if (spec.btfKeyTypeId !== undefined && keySizeGiven !== spec.keySize) fail(`key_size ${keySizeGiven} disagrees with the key type's size ${spec.keySize}`);
    spec.keySize = keySizeGiven;
  }
  if (valueSizeGiven !== undefined) {
    if (spec.btfValueTypeId !== undefined && valueSizeGiven !== spec.valueSize) fail(`value_size ${valueSizeGiven} disagrees with the value type's size ${spec.valueSize}`);
    spec.valueSize = valueSizeGiven;
  }
  if (valuesArray) {
    // A map-in-map's or PROG_ARRAY's values are fds (u32) to the kernel.
    spec.valueSize = 4;
  }
  return spec;
}

/** map_extra is __uint(map_extra, v), or an enum constant (newer headers' __ulong) for 64-bit values. */
function mapExtra(btf: Btf, m: BtfMember, uint: (m: BtfMember) => number): bigint {
  const t = btf.skipQualifiers(m.type);
  if ((t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) && t.values.length === 1) return BigInt.asUintN(64, BigInt(t.values[0]!.value));
  return BigInt(uint(m));
}
