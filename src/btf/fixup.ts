// What clang leaves for the loader to fill in before BTF_LOAD: DATASEC sizes and VAR offsets are 0 in
// the object; the section sizes and the symbols' values in the ELF give them. The kernel also wants
// each DATASEC's variables sorted by offset. Done once at parse time (pure, no kernel).
import { BtfKind, BtfLinkage } from './kinds.js';
import type { Btf } from './btf.js';

export interface DatasecFacts {
  /** Size of the ELF section with this name, or undefined when the object has no such section. */
  sectionSize(name: string): number | undefined;
  /** Value (offset in its section) of the symbol `name` defined in section `section`. */
  symbolOffset(section: string, name: string): number | undefined;
  /** Whether that symbol has hidden or internal visibility (libbpf then treats the VAR as static). */
  symbolHidden?(section: string, name: string): boolean;
}

/** DATASECs of externs: their sizes and offsets are the extern layout's (object/externs.ts), not the ELF's. */
const EXTERN_DATASECS = new Set(['.kconfig', '.ksyms']);

/**
 * Fill DATASEC sizes and VAR offsets in place. What cannot be fixed is returned as problems (naming
 * the section and variable) rather than thrown: the object can still load without BTF when nothing
 * needs it, and the loader says so.
 */
export function fixDatasecs(btf: Btf, facts: DatasecFacts): string[] {
  const problems: string[] = [];
  for (const t of btf.types) {
    if (t.kind !== BtfKind.DATASEC) continue;
    if (EXTERN_DATASECS.has(t.name)) {
      t.vars.sort((a, b) => a.offset - b.offset);
      continue;
    }
    const size = facts.sectionSize(t.name);
    if (size === undefined) {
      if (t.vars.length === 0) continue;
      problems.push(`BTF DATASEC ${t.name} (type id ${t.id}) has no ELF section of that name, so its size is unknown`);
      continue;
    }
    if (t.size === 0) t.size = size;
    for (const v of t.vars) {
      const variable = btf.type(v.type);
      if (variable.kind !== BtfKind.VAR) continue; // FUNC entries (.ksyms) keep their offsets
      const offset = facts.symbolOffset(t.name, variable.name);
      if (offset === undefined) {
        problems.push(variable.linkage === BtfLinkage.EXTERN
          ? `BTF VAR ${variable.name} in ${t.name} is extern: only .kconfig and .ksyms externs are resolved`
          : `BTF VAR ${variable.name} in DATASEC ${t.name} has no ELF symbol in that section, so its offset is unknown (was the object stripped?)`);
        continue;
      }
      v.offset = offset;
      if (v.size === 0) v.size = btf.sizeOf(variable.type);
      // libbpf: a global with hidden/internal visibility is static for the skeleton (and BPF_F_MMAPABLE).
      if (variable.linkage !== BtfLinkage.STATIC && facts.symbolHidden?.(t.name, variable.name)) variable.linkage = BtfLinkage.STATIC;
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
  return problems;
}
