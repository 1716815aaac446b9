// Map relocations: each ld_imm64 (two instruction slots) that refers to a map gets the map's fd in
// the first slot's imm; for global data the second slot's imm carries the offset into the value.
import { ObjectError } from '../errors.js';
import { Pseudo } from '../uapi/enums.js';
import type { Relocation } from '../object/spec.js';

const LD_IMM64 = 0x18;

export interface AppliedRelocation {
  insn: number;
  kind: 'map' | 'data';
  map: string;
  oldImm: number;
  newImm: number;
  offset?: number;
}

/** Patch `insns` in place; `fdOf` gives the fd of a map by its spec name. */
export function applyMapRelocations(
  file: string,
  program: string,
  insns: Buffer,
  relocations: Relocation[],
  fdOf: (map: string) => number | undefined,
): AppliedRelocation[] {
  const applied: AppliedRelocation[] = [];
  for (const r of relocations) {
    if (r.kind !== 'map' && r.kind !== 'data') continue;
    const at = r.insn * 8;
    if (at + 16 > insns.length || insns[at] !== LD_IMM64) {
      throw new ObjectError(file, `program ${program}: relocation for ${r.map} at instruction ${r.insn} is not on a 64-bit load (ld_imm64)`);
    }
    const fd = fdOf(r.map);
    if (fd === undefined) {
      throw new ObjectError(file, `program ${program} uses map ${r.map} (symbol ${r.symbol}), which is not in this object's maps: keep it in obj.maps or pass it in load({ maps })`);
    }
    const dst = insns[at + 1] & 0x0f;
    const oldImm = insns.readInt32LE(at + 4);
    insns[at + 1] = dst | ((r.kind === 'map' ? Pseudo.MAP_FD : Pseudo.MAP_VALUE) << 4);
    insns.writeInt32LE(fd, at + 4);
    insns.writeInt32LE(r.kind === 'data' ? r.offset : 0, at + 12);
    applied.push({ insn: r.insn, kind: r.kind, map: r.map, oldImm, newImm: fd, offset: r.kind === 'data' ? r.offset : undefined });
  }
  return applied;
}
