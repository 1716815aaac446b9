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
}

/**
 * Fill DATASEC sizes and VAR offsets in place. What cannot be fixed is returned as problems (naming
 * the section and variable) rather than thrown: the object can still load without BTF when nothing
 * needs it, and the loader says so.
 */
export function fixDatasecs(btf: Btf, facts: DatasecFacts): string[] {
  const problems: string[] = [];
  for (const t of btf.types) {
    if (t.kind !== BtfKind.DATASEC) continue;
    const size = facts.sectionSize(t.name);
    if (size === undefined) {
      // .kconfig / .ksyms externs have no ELF section; the loader refuses externs elsewhere.
      if (t.vars.length === 0) continue;
      problems.push(`BTF DATASEC ${t.name} (type id ${t.id}) has no ELF section of that name (extern variables in .kconfig/.ksyms are not supported)`);
      continue;
    }
    if (t.size === 0) t.size = size;
    for (const v of t.vars) {
      const variable = btf.type(v.type);
      if (variable.kind !== BtfKind.VAR) continue; // FUNC entries (.ksyms) keep their offsets
      const offset = facts.symbolOffset(t.name, variable.name);
      if (offset === undefined) {
        problems.push(variable.linkage === BtfLinkage.EXTERN
          ? `BTF VAR ${variable.name} in ${t.name} is extern: extern variables are not supported`
          : `BTF VAR ${variable.name} in DATASEC ${t.name} has no ELF symbol in that section, so its offset is unknown (was the object stripped?)`);
        continue;
      }
      v.offset = offset;
      if (v.size === 0) v.size = btf.sizeOf(variable.type);
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
  return problems;
}
