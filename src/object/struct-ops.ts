// struct_ops variables (libbpf's init_struct_ops_maps and bpf_object__collect_st_ops_relos): every
// VAR of DATASEC ".struct_ops" / ".struct_ops.link" (optionally "?"-prefixed: not created unless
// asked for) becomes a BPF_MAP_TYPE_STRUCT_OPS map named after the variable (key 4, max_entries 1,
// BPF_F_LINK for ".link"; the value size is the kernel's bpf_struct_ops_<type>, found at load). Its
// function pointers are REL records in .rel<section> pointing at struct_ops programs.
import { ObjectError } from '../errors.js';
import { BtfKind, type Btf, type BtfComposite, type BtfDatasec } from '../btf/index.js';
import { SectionFlag, SymbolType, type ElfFile, type ElfSection } from '../elf/index.js';
import { MapFlag, MapType } from '../uapi/enums.js';
import type { MapSpec } from './spec.js';

const NAMES = new Set(['.struct_ops', '.struct_ops.link', '?.struct_ops', '?.struct_ops.link']);

export function isStructOpsSection(name: string): boolean {
  return NAMES.has(name);
}

export interface PlacedStructOps { spec: MapSpec; offset: number; size: number }

export function parseStructOps(elf: ElfFile, section: ElfSection, btf: Btf | undefined): PlacedStructOps[] {
  const file = elf.file;
  const fail = (message: string, offset?: number): never => {
    throw new ObjectError(file, message, { section: section.name, offset });
  };
  if (!btf) fail('struct_ops variables need the .BTF section: compile with clang -g');
  const optional = section.name.startsWith('?');
  const name = optional ? section.name.slice(1) : section.name;
  const datasec = btf!.find(section.name, BtfKind.DATASEC);
  if (!datasec || datasec.kind !== BtfKind.DATASEC) fail(`no BTF DATASEC describes ${section.name} (libbpf: "DATASEC not found")`);
  const out: PlacedStructOps[] = [];
  for (const v of (datasec as BtfDatasec).vars) {
    const variable = btf!.type(v.type);
    if (variable.kind !== BtfKind.VAR) continue;
    const type = btf!.skipQualifiers(variable.type);
    if (!type.name) fail(`struct_ops variable ${variable.name}: its type is anonymous; name the struct (e.g. struct tcp_congestion_ops)`, v.offset);
    if (type.kind !== BtfKind.STRUCT) fail(`struct_ops variable ${variable.name}: ${type.name} is not a struct`, v.offset);
    const struct = type as BtfComposite;
    if (v.offset + struct.size > section.data.length) fail(`struct_ops variable ${variable.name} runs past the end of ${section.name}`, v.offset);
    out.push({
      offset: v.offset, size: struct.size,
      spec: {
        name: variable.name, type: MapType.STRUCT_OPS, keySize: 4, valueSize: struct.size, maxEntries: 1,
        flags: name === '.struct_ops.link' ? MapFlag.LINK : 0, pinning: 'none', mapExtra: 0n, kind: 'struct_ops', section: section.name,
        btfValueTypeId: struct.id, autocreate: !optional,
        structOps: { typeName: struct.name, typeId: struct.id, data: Buffer.from(section.data.subarray(v.offset, v.offset + struct.size)), programs: new Map() },
      },
    });
  }
  // Function pointers: .rel.struct_ops* records, each at a member of one variable, naming a program.
  for (const rel of elf.relocations.get(section.index) ?? []) {
    const at = out.find((p) => p.offset <= rel.offset && rel.offset < p.offset + p.size);
    if (!at) fail(`a function pointer relocation at byte ${rel.offset} is in no struct_ops variable`, rel.offset);
    const so = at!.spec.structOps!;
    const struct = btf!.type(so.typeId) as BtfComposite;
    const moff = (rel.offset - at!.offset) * 8;
    const member = struct.members.find((m) => m.bitOffset === moff);
    if (!member) fail(`struct_ops ${at!.spec.name}: no member of struct ${so.typeName} is at byte ${rel.offset - at!.offset}`, rel.offset);
    const ptr = btf!.skipQualifiers(member!.type);
    const proto = ptr.kind === BtfKind.PTR ? btf!.skipQualifiers(ptr.type) : undefined;
    if (!proto || proto.kind !== BtfKind.FUNC_PROTO) fail(`struct_ops ${at!.spec.name}: member ${member!.name} is not a function pointer, so it cannot hold a program`, rel.offset);
    const target = elf.sections[rel.symbol.sectionIndex];
    if (!target || !(target.flags & SectionFlag.EXECINSTR)) fail(`struct_ops ${at!.spec.name}: member ${member!.name} points at ${rel.symbol.name}, which is not a program`, rel.offset);
    // A function symbol names the program; a section symbol plus the addend in place points at one.
    let program = rel.symbol.name;
    if (rel.symbol.type !== SymbolType.FUNC) {
      const addend = Number(section.data.readBigUInt64LE(rel.offset));
      const fn = elf.symbols.find((s) => s.type === SymbolType.FUNC && s.sectionIndex === rel.symbol.sectionIndex && s.value === rel.symbol.value + addend);
      if (!fn) fail(`struct_ops ${at!.spec.name}: member ${member!.name} points at byte ${rel.symbol.value + addend} of ${target!.name}, where no program starts`, rel.offset);
      program = fn!.name;
    }
    so.programs.set(member!.name, program);
  }
  return out;
}
