// Building instructions by hand, for the tiny programs feature probes load.
export interface Insn { code: number; dst?: number; src?: number; off?: number; imm?: number }

export function encode(insns: Insn[]): Buffer {
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    out[i * 8] = x.code;
    out[i * 8 + 1] = ((x.src ?? 0) << 4) | (x.dst ?? 0);
    out.writeInt16LE(x.off ?? 0, i * 8 + 2);
    out.writeInt32LE(x.imm ?? 0, i * 8 + 4);
  });
  return out;
}

/** r0 = imm (BPF_ALU64 | BPF_MOV | BPF_K). */
export const movR0 = (imm: number): Insn => ({ code: 0xb7, dst: 0, imm });
/** call helper #id (BPF_JMP | BPF_CALL). */
export const callHelper = (id: number): Insn => ({ code: 0x85, imm: id });
/** exit (BPF_JMP | BPF_EXIT). */
export const exit = (): Insn => ({ code: 0x95 });
