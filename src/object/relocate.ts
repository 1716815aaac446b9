// Patching a linked program's instructions with what the kernel gave the loader (libbpf's
// bpf_object__relocate_data):
//   map     ld_imm64 → BPF_PSEUDO_MAP_FD, imm = the map's fd
//   data    ld_imm64 → BPF_PSEUDO_MAP_VALUE, imm = fd, second imm = offset in the value
//   ksym    ld_imm64 of a kernel variable or kfunc: typed and found → BPF_PSEUDO_BTF_ID, imm = its
//           kernel BTF id, second imm = the BTF object fd (0 for vmlinux); untyped → the kallsyms
//           address (low, high); weak and missing → 0
//   kfunc   call → BPF_PSEUDO_KFUNC_CALL, imm = kernel BTF id, off = index into fd_array of its
//           module's BTF (0 for vmlinux); weak and missing → a call to the invalid helper
//           2002000000 + extern index (dead code when guarded, named by the verifier otherwise)
// A reference to a map that is not created (autocreate off) becomes two calls to the invalid
// helper 2001000000 + map index, as libbpf poisons it. Pure: the fds and ids come from the caller.
import { ObjectError } from '../errors.js';
import { Pseudo } from '../uapi/enums.js';
import type { Relocation } from '../object/spec.js';

const LD_IMM64 = 0x18;
const CALL = 0x85;

/** libbpf's POISON_LDIMM64_MAP_BASE: "invalid func unknown#2001000NNN" names map NNN. */
export const POISON_MAP_BASE = 2001000000;
/** libbpf's POISON_CALL_KFUNC_BASE: "invalid func unknown#2002000NNN" names extern NNN. */
export const POISON_KFUNC_BASE = 2002000000;

export interface AppliedRelocation {
  insn: number;
  kind: 'map' | 'data' | 'ksym' | 'kfunc';
  /** The map, or the extern. */
  map: string;
  oldImm: number;
  newImm: number;
  offset?: number;
  /** Poisoned: the map is not created, or the weak extern is missing. */
  poisoned?: boolean;
}

/** A map the loader created: its fd; or not created: its index, for the poison constant. */
export type MapRef = { fd: number } | { poisonIndex: number };

/**
 * Patch `insns` in place; `mapOf` gives the fd of a map by its spec name (or, for a map that is not
 * created, its index to poison with).
 */
export function applyMapRelocations(
  file: string,
  program: string,
  insns: Buffer,
  relocations: Relocation[],
  mapOf: (map: string) => number | MapRef | undefined,
): AppliedRelocation[] {
  const applied: AppliedRelocation[] = [];
  for (const r of relocations) {
    if (r.kind !== 'map' && r.kind !== 'data') continue;
    const at = r.insn * 8;
    if (at + 16 > insns.length || insns[at] !== LD_IMM64) {
      throw new ObjectError(file, `program ${program}: relocation for ${r.map} at instruction ${r.insn} is not on a 64-bit load (ld_imm64)`);
    }
    const got = mapOf(r.map);
    if (got === undefined) {
      throw new ObjectError(file, `program ${program} uses map ${r.map} (symbol ${r.symbol}), which is not in this object's maps: keep it in obj.maps or pass it in load({ maps })`);
    }
    const ref: MapRef = typeof got === 'number' ? { fd: got } : got;
    const oldImm = insns.readInt32LE(at + 4);
    if ('poisonIndex' in ref) {
      for (const half of [at, at + 8]) poisonCall(insns, half, POISON_MAP_BASE + ref.poisonIndex);
      applied.push({ insn: r.insn, kind: r.kind, map: r.map, oldImm, newImm: POISON_MAP_BASE + ref.poisonIndex, poisoned: true });
      continue;
    }
    const dst = insns[at + 1]! & 0x0f;
    insns[at + 1] = dst | ((r.kind === 'map' ? Pseudo.MAP_FD : Pseudo.MAP_VALUE) << 4);
    insns.writeInt32LE(ref.fd, at + 4);
    insns.writeInt32LE(r.kind === 'data' ? r.offset : 0, at + 12);
    applied.push({ insn: r.insn, kind: r.kind, map: r.map, oldImm, newImm: ref.fd, offset: r.kind === 'data' ? r.offset : undefined });
  }
  return applied;
}

/** What an extern resolved to (undefined: a __weak extern the kernel lacks). */
export type ExternValue =
  /** A kernel BTF id (typed ksym, kfunc): the BTF object's fd (0 for vmlinux) and fd_array index (kfuncs of modules). */
  | { btfId: number; btfObjFd: number; fdIndex: number }
  /** An address from kallsyms (untyped ksym). */
  | { addr: bigint };

/** Patch ksym and kfunc references; `valueOf` resolves an extern, `indexOf` gives its index (for poisoning). */
export function applyExternRelocations(
  file: string,
  program: string,
  insns: Buffer,
  relocations: Relocation[],
  valueOf: (extern: string) => ExternValue | undefined,
  indexOf: (extern: string) => number,
): AppliedRelocation[] {
  const applied: AppliedRelocation[] = [];
  for (const r of relocations) {
    if (r.kind !== 'ksym' && r.kind !== 'kfunc') continue;
    const at = r.insn * 8;
    const v = valueOf(r.extern);
    const oldImm = insns.readInt32LE(at + 4);
    if (r.kind === 'ksym') {
      if (at + 16 > insns.length || insns[at] !== LD_IMM64) {
        throw new ObjectError(file, `program ${program}: the reference to extern ${r.extern} at instruction ${r.insn} is not a 64-bit load (ld_imm64)`);
      }
      if (v && 'btfId' in v) {
        insns[at + 1] = (insns[at + 1]! & 0x0f) | (Pseudo.BTF_ID << 4);
        insns.writeInt32LE(v.btfId, at + 4);
        insns.writeInt32LE(v.btfObjFd, at + 12);
        applied.push({ insn: r.insn, kind: 'ksym', map: r.extern, oldImm, newImm: v.btfId });
      } else {
        const addr = v && 'addr' in v ? BigInt.asUintN(64, v.addr) : 0n;
        insns.writeUInt32LE(Number(addr & 0xffffffffn), at + 4);
        insns.writeUInt32LE(Number(addr >> 32n), at + 12);
        applied.push({ insn: r.insn, kind: 'ksym', map: r.extern, oldImm, newImm: Number(addr & 0xffffffffn) | 0, poisoned: !v });
      }
      continue;
    }
    if (at + 8 > insns.length || insns[at] !== CALL) {
      throw new ObjectError(file, `program ${program}: the call of kfunc ${r.extern} at instruction ${r.insn} is not a call instruction`);
    }
    if (v && 'btfId' in v) {
      insns[at + 1] = (insns[at + 1]! & 0x0f) | (Pseudo.KFUNC_CALL << 4);
      insns.writeInt16LE(v.fdIndex, at + 2);
      insns.writeInt32LE(v.btfId, at + 4);
      applied.push({ insn: r.insn, kind: 'kfunc', map: r.extern, oldImm, newImm: v.btfId });
    } else {
      const imm = POISON_KFUNC_BASE + indexOf(r.extern);
      poisonCall(insns, at, imm);
      applied.push({ insn: r.insn, kind: 'kfunc', map: r.extern, oldImm, newImm: imm, poisoned: true });
    }
  }
  return applied;
}

function poisonCall(insns: Buffer, at: number, imm: number): void {
  insns[at] = CALL;
  insns[at + 1] = 0;
  insns.writeInt16LE(0, at + 2);
  insns.writeInt32LE(imm, at + 4);
}
