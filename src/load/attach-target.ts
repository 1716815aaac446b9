// attach_btf_id: programs that attach to a kernel function or BTF-typed tracepoint name their target
// by a BTF type id of the kernel, found by name at load time (as libbpf does):
//   tp_btf/NAME               → the typedef btf_trace_NAME
//   fentry|fexit|fmod_ret/FN  → the FUNC FN
//   lsm/HOOK                  → the FUNC bpf_lsm_HOOK
//   iter/NAME                 → the FUNC bpf_iter_NAME
import type { LazyBtf } from '../btf/lazy.js';
import { BtfKind } from '../btf/kinds.js';
import { UsageError } from '../errors.js';
import type { ProgramSpec } from '../object/index.js';
import { AttachType, enumName, ProgType } from '../uapi/enums.js';

/** What a program's attach_btf_id names, or undefined when its type takes none. */
export function attachTargetName(prog: Pick<ProgramSpec, 'type' | 'expectedAttachType' | 'attachTo'>): { name: string; kind: number } | undefined {
  if (prog.type === ProgType.TRACING) {
    if (prog.expectedAttachType === AttachType.TRACE_RAW_TP) return { name: `btf_trace_${prog.attachTo}`, kind: BtfKind.TYPEDEF };
    if (prog.expectedAttachType === AttachType.TRACE_ITER) return { name: `bpf_iter_${prog.attachTo}`, kind: BtfKind.FUNC };
    return { name: prog.attachTo, kind: BtfKind.FUNC };
  }
  if (prog.type === ProgType.LSM) return { name: `bpf_lsm_${prog.attachTo}`, kind: BtfKind.FUNC };
  return undefined;
}

/** The kernel BTF id of `prog`'s attach target (0 when the program takes none). */
export function resolveAttachBtfId(file: string, prog: ProgramSpec, kernel: () => LazyBtf, kernelName: string): number {
  const target = attachTargetName(prog);
  if (!target) return 0;
  const what = `program ${prog.name} (section ${prog.section}, ${enumName(ProgType, prog.type)}) in ${file}`;
  if (!prog.attachTo) {
    throw new UsageError('BAD_ARGUMENT', `${what} names no attach target: its section must be "${prog.section}/TARGET"`);
  }
  const btf = kernel();
  const id = btf.idsByEssentialName(target.name).find((i) => btf.kindOf(i) === target.kind && btf.type(i).name === target.name);
  if (id === undefined) {
    throw new UsageError('NOT_SUPPORTED', `${what} attaches to ${prog.attachTo}, but this kernel's BTF (${kernelName}) has no ${target.kind === BtfKind.TYPEDEF ? 'BTF-typed tracepoint' : 'function'} ${target.name}`, {
      hint: target.kind === BtfKind.TYPEDEF ? 'check the tracepoint name (ls /sys/kernel/tracing/events/*/), or use SEC("raw_tp/…") / SEC("tracepoint/…")' : 'the function may be missing, inlined or in a module on this kernel',
    });
  }
  return id;
}
