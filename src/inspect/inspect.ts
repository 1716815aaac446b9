// `inspect`: everything the loader sees in an object file, as data — sections, maps, programs,
// globals, relocations, BTF and CO-RE records, license — and each function disassembled with its C
// source lines (from .BTF.ext line_info) interleaved. No kernel: this is parseObject plus the ELF.
import { disassemble, type InsnTarget } from '../asm/disasm.js';
import { BtfKind, btfKindName } from '../btf/kinds.js';
import type { Btf } from '../btf/btf.js';
import { coreKindName } from '../btf/core.js';
import { readElf, SectionFlag, SectionType, SymbolType, type ElfFile } from '../elf/index.js';
import { parseObject } from '../object/parse.js';
import type { FunctionSpec, MapSpec, ObjectSpec, Relocation } from '../object/spec.js';
import { AttachType, enumName, MapType, ProgType } from '../uapi/enums.js';

export interface InspectSection { index: number; name: string; type: string; size: number; flags: string }
export interface InspectMap {
  name: string; type: string; typeId: number; keySize: number; valueSize: number; maxEntries: number;
  flags: number; pinning: MapSpec['pinning']; kind: MapSpec['kind']; section: string; innerMap?: string;
}
export interface InspectProgram {
  name: string; section: string; type: string; typeId: number; expectedAttachType: string; expectedAttachTypeId: number;
  attachTo: string; instructions: number; funcInfo: number; lineInfo: number; coreRelos: number;
}
export interface InspectFunction { name: string; section: string; instructions: number }
export interface InspectGlobal { name: string; section: string; offset: number; size: number }
export interface InspectRelocation {
  /** The function the instruction is in, and its index there (ld_imm64 counts two). */
  function: string; insn: number;
  kind: Relocation['kind'];
  /** The map (map/data), or the function called or referenced (call/func). */
  target: string;
  /** For data: the byte offset in the section's map, and the global variable there if one is. */
  offset?: number; variable?: string;
  /** The ELF symbol the record named. */
  symbol: string;
}
export interface InspectBtf {
  types: number;
  byKind: Record<string, number>;
  stringBytes: number;
  funcInfo: number; lineInfo: number; coreRelos: number;
  problems: string[];
}
export interface InspectCoreRelo {
  function: string; insn: number; kind: string; typeId: number; type: string; accessor: string;
  /** The accessor spelled out in C terms (`task_like->pid`, `enum e::B`), when it can be. */
  access?: string;
}
export interface SourceRef { file: string; line: number; column: number; text: string }
export interface InspectLine { index: number; text: string; label?: string; source?: SourceRef }
export interface InspectListing {
  function: string; section: string; kind: 'program' | 'subprogram';
  /** The function's first instruction, as an index into its ELF section. */
  sectionIndex: number;
  lines: InspectLine[];
}

export interface Inspection {
  file: string;
  license: string;
  kernVersion: number;
  sections: InspectSection[];
  maps: InspectMap[];
  programs: InspectProgram[];
  subprograms: InspectFunction[];
  globals: InspectGlobal[];
  relocations: InspectRelocation[];
  btf?: InspectBtf;
  coreRelocations: InspectCoreRelo[];
  disassembly: InspectListing[];
}

/** Jump comparisons against constants this large are printed in hex (addresses, masks), as bpftool does. */
export const HEX_FROM = 0x10000;

function sectionTypeName(type: number): string {
  for (const [k, v] of Object.entries(SectionType)) if (v === type) return k;
  if (type === 0x6fff4c03) return 'LLVM_ADDRSIG';
  return `0x${type.toString(16)}`;
}

function sectionFlags(flags: number): string {
  return `${flags & SectionFlag.WRITE ? 'W' : ''}${flags & SectionFlag.ALLOC ? 'A' : ''}${flags & SectionFlag.EXECINSTR ? 'X' : ''}`;
}

/** The global variable at `offset` of data map `map` (by section name), if one starts there. */
function variableAt(spec: ObjectSpec, map: string, offset: number): string | undefined {
  for (const g of spec.globals.values()) if (g.section === map && g.offset === offset) return g.name;
  return undefined;
}

function targetOf(spec: ObjectSpec, r: Relocation): InsnTarget | undefined {
  switch (r.kind) {
    case 'map': return { kind: 'map', map: r.map };
    case 'data': return { kind: 'data', map: r.map, offset: r.offset, variable: variableAt(spec, r.map, r.offset) };
    case 'call': return { kind: 'call', target: r.target };
    case 'func': return { kind: 'func', target: r.target };
    case 'kfunc': return { kind: 'call', target: r.extern };
    case 'ksym': return undefined;
  }
}

/** A CO-RE accessor ("0:2:1") spelled out against the local type: `task->mm.pgd`, `enum e::B`. */
export function accessPath(btf: Btf, typeId: number, accessor: string, kind: number): string | undefined {
  try {
    const parts = accessor.split(':').map(Number);
    if (parts.some((p) => !Number.isInteger(p) || p < 0)) return undefined;
    const root = btf.type(typeId);
    let t = btf.skipQualifiers(typeId);
    if (kind >= 6 && kind <= 9 || kind === 12) return undefined; // type-based: the accessor is just "0"
    if (kind === 10 || kind === 11) {
      if (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) return `enum ${t.name || '(anon)'}::${t.values[parts[0]!]?.name ?? `#${parts[0]}`}`;
      return undefined;
    }
    let path = root.name || '(anon)';
    path += parts[0] ? `[${parts[0]}]` : '';
    let first = true;
    for (const p of parts.slice(1)) {
      if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) {
        const m = t.members[p];
        if (!m) return undefined;
        path += `${first ? '->' : '.'}${m.name || `<anon#${p}>`}`;
        t = btf.skipQualifiers(m.type);
      } else if (t.kind === BtfKind.ARRAY) {
        path += `[${p}]`;
        t = btf.skipQualifiers(t.type);
      } else {
        return undefined;
      }
      first = false;
    }
    return path;
  } catch {
    return undefined;
  }
}

/** Where each function starts in its section (its FUNC symbol), in instructions. */
function functionStarts(elf: ElfFile): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of elf.symbols) if (s.type === SymbolType.FUNC) out.set(s.name, s.value / 8);
  return out;
}

/** Labels (clang's LBB symbols and function names) by section index and instruction index. */
function sectionLabels(elf: ElfFile): Map<number, Map<number, string>> {
  const out = new Map<number, Map<number, string>>();
  for (const s of elf.symbols) {
    if ((s.type !== SymbolType.NOTYPE && s.type !== SymbolType.FUNC) || !s.name || s.sectionIndex >= elf.sections.length) continue;
    const section = elf.sections[s.sectionIndex];
    if (!section || !(section.flags & SectionFlag.EXECINSTR)) continue;
    let m = out.get(s.sectionIndex);
    if (!m) out.set(s.sectionIndex, (m = new Map()));
    const at = s.value / 8;
    // A function's own name wins over a label at the same place.
    if (!m.has(at) || s.type === SymbolType.FUNC) m.set(at, s.name);
  }
  return out;
}

/**
 * The listing of one function: its instructions with relocations resolved (map names, called
 * functions, globals), helpers named, jump targets labelled, and the C line before the first
 * instruction it produced.
 */
export function listFunction(spec: ObjectSpec, fn: FunctionSpec, labelAt?: (index: number) => string | undefined): InspectLine[] {
  const relocs = new Map(fn.relocations.map((r) => [r.insn, targetOf(spec, r)]));
  const lineAt = new Map(fn.lineInfo.map((l) => [l.insn, l]));
  return disassemble(fn.instructions, { target: (i) => relocs.get(i), label: labelAt, hexFrom: HEX_FROM }).map(({ index, text }) => {
    const line: InspectLine = { index, text };
    const label = labelAt?.(index);
    if (label && index !== 0) line.label = label;
    const l = lineAt.get(index);
    if (l && l.lineNumber > 0 && l.line.trim()) line.source = { file: l.fileName, line: l.lineNumber, column: l.column, text: l.line };
    return line;
  });
}

/** Inspect an object file's bytes (`file` names it in errors and output). */
export function inspectObject(buf: Buffer, file: string): Inspection {
  const elf = readElf(buf, file);
  const spec = parseObject(buf, file);
  const starts = functionStarts(elf);
  const labels = sectionLabels(elf);
  const functions: [FunctionSpec, 'program' | 'subprogram'][] = [
    ...[...spec.programs.values()].map((p) => [p, 'program'] as [FunctionSpec, 'program']),
    ...[...spec.subprograms.values()].map((p) => [p, 'subprogram'] as [FunctionSpec, 'subprogram']),
  ];

  const relocations: InspectRelocation[] = [];
  const coreRelocations: InspectCoreRelo[] = [];
  for (const [fn] of functions) {
    for (const r of fn.relocations) {
      const t = targetOf(spec, r);
      const row: InspectRelocation = { function: fn.name, insn: r.insn, kind: r.kind, target: r.kind === 'map' || r.kind === 'data' ? r.map : r.kind === 'ksym' || r.kind === 'kfunc' ? r.extern : r.target, symbol: r.symbol };
      if (t?.kind === 'data') { row.offset = t.offset; if (t.variable) row.variable = t.variable; }
      relocations.push(row);
    }
    for (const c of fn.coreRelos) {
      let type = `#${c.typeId}`;
      try {
        const t = spec.btf?.type(c.typeId);
        if (t) type = `${btfKindName(t.kind).toLowerCase()} ${t.name || '(anon)'}`;
      } catch { /* keep the id */ }
      const access = spec.btf ? accessPath(spec.btf, c.typeId, c.accessor, c.kind) : undefined;
      coreRelocations.push({ function: fn.name, insn: c.insn, kind: coreKindName(c.kind), typeId: c.typeId, type, accessor: c.accessor, ...(access ? { access } : {}) });
    }
  }

  let btf: InspectBtf | undefined;
  if (spec.btf) {
    const byKind: Record<string, number> = {};
    for (const t of spec.btf.types.slice(1)) byKind[btfKindName(t.kind)] = (byKind[btfKindName(t.kind)] ?? 0) + 1;
    const all = functions.map(([f]) => f);
    btf = {
      types: spec.btf.types.length - 1,
      byKind,
      stringBytes: spec.btf.strings.length,
      funcInfo: all.reduce((n, f) => n + f.funcInfo.length, 0),
      lineInfo: all.reduce((n, f) => n + f.lineInfo.length, 0),
      coreRelos: all.reduce((n, f) => n + f.coreRelos.length, 0),
      problems: spec.btfProblems ?? [],
    };
  }

  const disassembly: InspectListing[] = functions.map(([fn, kind]) => {
    const section = elf.section(fn.section);
    const start = starts.get(fn.name) ?? 0;
    const sectionLabelMap = section ? labels.get(section.index) : undefined;
    return {
      function: fn.name, section: fn.section, kind, sectionIndex: start,
      lines: listFunction(spec, fn, (i) => sectionLabelMap?.get(start + i)),
    };
  });

  return {
    file,
    license: spec.license,
    kernVersion: spec.kernVersion,
    sections: elf.sections.filter((s) => s.index !== 0).map((s) => ({ index: s.index, name: s.name, type: sectionTypeName(s.type), size: s.size, flags: sectionFlags(s.flags) })),
    maps: [...spec.maps.values()].map((m) => ({
      name: m.name, type: enumName(MapType, m.type), typeId: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
      flags: m.flags, pinning: m.pinning, kind: m.kind, section: m.section, ...(m.innerMap ? { innerMap: enumName(MapType, m.innerMap.type) } : {}),
    })),
    programs: [...spec.programs.values()].map((p) => ({
      name: p.name, section: p.section, type: enumName(ProgType, p.type), typeId: p.type,
      expectedAttachType: p.expectedAttachType ? enumName(AttachType, p.expectedAttachType) : '', expectedAttachTypeId: p.expectedAttachType,
      attachTo: p.attachTo, instructions: p.instructions.length / 8,
      funcInfo: p.funcInfo.length, lineInfo: p.lineInfo.length, coreRelos: p.coreRelos.length,
    })),
    subprograms: [...spec.subprograms.values()].map((f) => ({ name: f.name, section: f.section, instructions: f.instructions.length / 8 })),
    globals: [...spec.globals.values()].map((g) => ({ name: g.name, section: g.section, offset: g.offset, size: g.size })),
    relocations,
    btf,
    coreRelocations,
    disassembly,
  };
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

function table(rows: string[][], indent = '  '): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => (indent + r.map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!))).join('  ')).trimEnd());
}

function sourceText(s: SourceRef): string {
  const base = s.file.split('/').pop() ?? s.file;
  return `; ${s.text.trim()}   [${base}:${s.line}]`;
}

/** The human `inspect` output. */
export function renderInspection(x: Inspection): string {
  const out: string[] = [];
  out.push(`object:  ${x.file}`);
  out.push(`license: ${x.license ? JSON.stringify(x.license) : '(none: GPL-only helpers will be refused)'}${x.kernVersion ? `, kernel version ${x.kernVersion}` : ''}`);
  out.push('', `sections (${x.sections.length}):`);
  out.push(...table([['#', 'name', 'type', 'size', 'flags'], ...x.sections.map((s) => [String(s.index), s.name || '(null)', s.type, `${s.size}`, s.flags])]));
  out.push('', `maps (${x.maps.length}):`);
  out.push(...table([['name', 'type', 'key', 'value', 'max entries', 'flags', 'pinning', 'from'],
    ...x.maps.map((m) => [m.name, m.type + (m.innerMap ? `(of ${m.innerMap})` : ''), `${m.keySize}`, `${m.valueSize}`, `${m.maxEntries}`, `0x${m.flags.toString(16)}`, m.pinning, m.kind === 'data' ? `global data ${m.section}` : m.section])]));
  out.push('', `programs (${x.programs.length}):`);
  out.push(...table([['name', 'section', 'program type', 'expected attach type', 'insns', 'func/line info', 'CO-RE'],
    ...x.programs.map((p) => [p.name, p.section, p.type, p.expectedAttachType || '-', `${p.instructions}`, `${p.funcInfo}/${p.lineInfo}`, `${p.coreRelos}`])]));
  if (x.subprograms.length) {
    out.push('', `subprograms (${x.subprograms.length}):`);
    out.push(...table(x.subprograms.map((f) => [f.name, f.section, `${f.instructions} insns`])));
  }
  out.push('', `globals (${x.globals.length}):`);
  out.push(...table(x.globals.map((g) => [g.name, `${g.section}+${g.offset}`, `${g.size} bytes`])));
  out.push('', `relocations (${x.relocations.length}):`);
  out.push(...table(x.relocations.map((r) => [r.function, `insn ${r.insn}`, r.kind,
    r.kind === 'data' ? `${r.target}+${r.offset}${r.variable ? ` (${r.variable})` : ''}` : r.target])));
  out.push('');
  if (x.btf) {
    const kinds = Object.entries(x.btf.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ');
    out.push(`BTF: ${x.btf.types} types (${kinds}); ${x.btf.stringBytes} bytes of strings`);
    out.push(`BTF.ext: ${x.btf.funcInfo} func_info, ${x.btf.lineInfo} line_info, ${x.btf.coreRelos} CO-RE relocation records`);
    for (const p of x.btf.problems) out.push(`  BTF problem: ${p}`);
  } else {
    out.push('BTF: none (built without clang -g: no typed maps, no source lines, no CO-RE)');
  }
  out.push('', `CO-RE relocations (${x.coreRelocations.length}):`);
  out.push(...table(x.coreRelocations.map((c) => [c.function, `insn ${c.insn}`, c.kind, c.type, c.accessor, c.access ?? ''])));

  for (const l of x.disassembly) {
    out.push('', `${l.kind} ${l.function} (section ${l.section}${l.sectionIndex ? `, from instruction ${l.sectionIndex}` : ''}):`);
    let lastSource = '';
    for (const line of l.lines) {
      if (line.label) out.push(`${line.label}:`);
      if (line.source) {
        const s = sourceText(line.source);
        if (s !== lastSource) out.push(s);
        lastSource = s;
      }
      out.push(`${String(line.index).padStart(6)}: ${line.text}`);
    }
  }
  return out.join('\n');
}
