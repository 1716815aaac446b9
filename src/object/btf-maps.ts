// BTF-defined maps (SEC(".maps")): each map is a VAR in DATASEC ".maps" whose type is a STRUCT built
// by bpf_helpers.h's macros. __uint(n, v) is `int (*n)[v]` (PTR → ARRAY with nelems v);
// __type(key, T) is `T *key`; __array(values, S) is a zero-length ARRAY of PTR → STRUCT S (the
// inner map of a map-in-map). The section's bytes are zero: everything comes from BTF.
import { ObjectError } from '../errors.js';
import { Btf, BtfKind, btfKindName, type BtfComposite, type BtfMember } from '../btf/index.js';
import { SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
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
  const symbols = new Map<string, number>();
  for (const s of elf.symbols) {
    if (s.sectionIndex === section.index && s.type !== SymbolType.SECTION && s.name) symbols.set(s.name, s.value);
  }
  const maps: PlacedMap[] = [];
  for (const v of datasec.vars) {
    const variable = btf.type(v.type);
    if (variable.kind !== BtfKind.VAR) {
      throw new ObjectError(file, `DATASEC ${section.name} entry type id ${v.type} is a ${btfKindName(variable.kind)}, not a VAR`, { section: '.BTF' });
    }
    const offset = symbols.get(variable.name);
    if (offset === undefined) {
      throw new ObjectError(file, `map ${variable.name} is in BTF but has no symbol in ${section.name}`, { section: section.name });
    }
    const def = btf.skipQualifiers(variable.type);
    if (def.kind !== BtfKind.STRUCT) {
      throw new ObjectError(file, `map ${variable.name}: its definition is a ${btfKindName(def.kind)}, not a struct`, { section: section.name, offset });
    }
    maps.push({ spec: parseMapDefinition(file, section.name, btf, variable.name, def, true), offset });
  }
  return maps;
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
        if (pinning !== 0 && pinning !== 1) fail(`pinning ${pinning} is not supported (0 = none, 1 = LIBBPF_PIN_BY_NAME)`);
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
        if (!allowInner) fail('an inner map cannot itself hold maps');
        const array = btf.skipQualifiers(m.type);
        if (array.kind !== BtfKind.ARRAY || array.nelems !== 0) fail('member values must be declared with __array(values, struct { ... })');
        const ptr = btf.skipQualifiers((array as { type: number }).type);
        const inner = ptr.kind === BtfKind.PTR ? btf.skipQualifiers(ptr.type) : undefined;
        if (!inner || inner.kind !== BtfKind.STRUCT) return fail('__array(values, ...) must name a map definition struct');
        spec.innerMap = parseMapDefinition(file, sectionName, btf, `${name}.inner`, inner, false);
        break;
      }
      default:
        fail(`unknown member "${m.name}" in the map definition (known: type, key, value, key_size, value_size, max_entries, map_flags, pinning, values, map_extra)`);
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
  if (spec.innerMap) {
    // A map-in-map's values are map fds (u32) to the kernel.
    if (valueSizeGiven !== undefined && valueSizeGiven !== 4) fail(`value_size must be 4 for a map of maps, not ${valueSizeGiven}`);
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
