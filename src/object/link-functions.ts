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
 * Append every function `entry` reaches through 'call' and 'func' relocations, depth first as
 * libbpf's bpf_object__reloc_code appends them (a callee right after it is first met, its own callees
 * before the caller's next one), then `also` (an exception callback, which nothing calls) and what
 * it reaches. `lookup` finds a function by name (subprograms first, then programs).
 */
export function linkFunctions(file: string, entry: FunctionSpec, lookup: (name: string) => FunctionSpec | undefined, also: readonly string[] = []): LinkedProgram {
  const order: FunctionSpec[] = [entry];
  const layout = new Map<string, number>([[entry.name, 0]]);
  let length = entry.instructions.length / 8;
  const append = (from: FunctionSpec, name: string, insn: number | undefined) => {
    const callee = lookup(name);
    if (!callee) {
      throw new ObjectError(file, insn === undefined
        ? `program ${entry.name}: its exception callback ${name} is not a function of the object`
        : `program ${entry.name}: function ${from.name} calls ${name} at instruction ${insn}, which the object does not define`, { section: from.section });
    }
    layout.set(callee.name, length);
    order.push(callee);
    length += callee.instructions.length / 8;
    visit(callee);
  };
  const visit = (fn: FunctionSpec) => {
    for (const r of fn.relocations) {
      if ((r.kind !== 'call' && r.kind !== 'func') || layout.has(r.target)) continue;
      append(fn, r.target, r.insn);
    }
  };
  visit(entry);
  for (const name of also) if (!layout.has(name)) append(entry, name, undefined);

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
