// bpf-to-bpf calls: the kernel takes one instruction array per program, so every subprogram a program
// calls (directly or not) is appended after it, once, and each call's imm is rewritten to the
// callee's new position. BTF.ext records move with their functions.
import { ObjectError } from '../errors.js';
import { Pseudo } from '../uapi/enums.js';
import type { CoreRelo, FuncInfo, FunctionSpec, LineInfo, Relocation } from '../object/spec.js';

export interface LinkedProgram {
  /** The program's instructions followed by every subprogram it reaches. Calls are already resolved. */
  insns: Buffer;
  /** Map and data relocations still to apply, with instruction indexes into `insns`. */
  relocations: Relocation[];
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelos: CoreRelo[];
  /** Where each function landed: name → first instruction index. */
  layout: Map<string, number>;
  /** Functions whose address is taken (callbacks for bpf_loop, bpf_for_each_map_elem, timers...). */
  callbacks: string[];
}

/**
 * Point instruction `index` at the function `delta` instructions after it: a call (src_reg
 * BPF_PSEUDO_CALL) or an ld_imm64 of a function's address (src_reg BPF_PSEUDO_FUNC — clang leaves
 * src_reg 0 there and the byte offset in imm; the kernel wants the marker and a relative index).
 */
function pointAt(insns: Buffer, index: number, kind: 'call' | 'func', delta: number): void {
  const at = index * 8;
  insns[at + 1] = (insns[at + 1] & 0x0f) | ((kind === 'call' ? Pseudo.CALL : Pseudo.FUNC) << 4);
  insns.writeInt32LE(delta, at + 4);
  if (kind === 'func') insns.writeInt32LE(0, at + 12);
}

/**
 * Append every function `entry` reaches through 'call' and 'func' relocations, in the order first
 * reached. `lookup` finds a function by name (subprograms first, then programs).
 */
export function linkFunctions(file: string, entry: FunctionSpec, lookup: (name: string) => FunctionSpec | undefined): LinkedProgram {
  const order: FunctionSpec[] = [entry];
  const layout = new Map<string, number>([[entry.name, 0]]);
  let length = entry.instructions.length / 8;
  for (let i = 0; i < order.length; i++) {
    for (const r of order[i].relocations) {
      if ((r.kind !== 'call' && r.kind !== 'func') || layout.has(r.target)) continue;
      const callee = lookup(r.target);
      if (!callee) {
        throw new ObjectError(file, `program ${entry.name}: function ${order[i].name} calls ${r.target} at instruction ${r.insn}, which the object does not define`, { section: order[i].section });
      }
      layout.set(callee.name, length);
      order.push(callee);
      length += callee.instructions.length / 8;
    }
  }

  const insns = Buffer.concat(order.map((f) => f.instructions));
  const out: LinkedProgram = { insns, relocations: [], funcInfo: [], lineInfo: [], coreRelos: [], layout, callbacks: [] };
  for (const f of order) {
    const base = layout.get(f.name)!;
    for (const r of f.relocations) {
      const at = base + r.insn;
      if (r.kind === 'call' || r.kind === 'func') {
        pointAt(insns, at, r.kind, layout.get(r.target)! - at - 1);
        if (r.kind === 'func' && !out.callbacks.includes(r.target)) out.callbacks.push(r.target);
      } else {
        out.relocations.push({ ...r, insn: at });
      }
    }
    for (const x of f.funcInfo) out.funcInfo.push({ ...x, insn: base + x.insn });
    for (const x of f.lineInfo) out.lineInfo.push({ ...x, insn: base + x.insn });
    for (const x of f.coreRelos) out.coreRelos.push({ ...x, insn: base + x.insn });
  }
  return out;
}
