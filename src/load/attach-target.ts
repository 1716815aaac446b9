// attach_btf_id: programs that attach to a kernel function, a BTF-typed tracepoint or another BPF
// program name their target by a BTF type id, found by name at load time (libbpf's
// libbpf_find_attach_btf_id):
//   tp_btf/NAME               → TYPEDEF btf_trace_NAME        (attach type TRACE_RAW_TP)
//   fentry|fexit|fmod_ret/FN  → FUNC FN
//   lsm/HOOK, lsm_cgroup/HOOK → FUNC bpf_lsm_HOOK
//   iter/NAME                 → FUNC bpf_iter_NAME
//   freplace/FN               → FUNC FN in the BTF of the target program (attach_prog_fd)
// in vmlinux BTF first, then in the loaded modules' BTF (attach_btf_obj_fd = the module's BTF
// object); "MODULE:FN" looks only in that module ("vmlinux:FN" only in vmlinux).
import { Btf } from '../btf/btf.js';
import { BtfKind } from '../btf/kinds.js';
import type { LazyBtf } from '../btf/lazy.js';
import { UsageError } from '../errors.js';
import { SecFlag, type ProgramSpec } from '../object/index.js';
import { btfData, btfGetFdByIdTry } from '../sys/commands.js';
import { errnoName } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { programInfo } from '../sys/info.js';
import { AttachType, enumName, ProgType } from '../uapi/enums.js';
import { findOwn, type KernelBtfs } from './kernel-btf.js';

/** What a program's attach_btf_id names: a prefix and the BTF kind, by attach type (btf_get_kernel_prefix_kind). */
export function attachTargetName(prog: Pick<ProgramSpec, 'type' | 'expectedAttachType' | 'attachTo'>): { name: string; kind: number } | undefined {
  if (!needsAttachBtf(prog)) return undefined;
  const fn = prog.attachTo.includes(':') ? prog.attachTo.slice(prog.attachTo.indexOf(':') + 1) : prog.attachTo;
  switch (prog.expectedAttachType) {
    case AttachType.TRACE_RAW_TP: return { name: `btf_trace_${fn}`, kind: BtfKind.TYPEDEF };
    case AttachType.LSM_MAC: case AttachType.LSM_CGROUP: return { name: `bpf_lsm_${fn}`, kind: BtfKind.FUNC };
    case AttachType.TRACE_ITER: return { name: `bpf_iter_${fn}`, kind: BtfKind.FUNC };
    default: return { name: fn, kind: BtfKind.FUNC };
  }
}

/** Program types whose load needs attach_btf_id (and the sections that say so). */
export function needsAttachBtf(prog: Pick<ProgramSpec, 'type'> & { secFlags?: number }): boolean {
  return ((prog.secFlags ?? 0) & SecFlag.ATTACH_BTF) !== 0 || prog.type === ProgType.TRACING || prog.type === ProgType.LSM || prog.type === ProgType.EXT;
}

export interface AttachTarget {
  attachBtfId: number;
  /** A module's BTF object (fentry on a module function). */
  attachBtfObjFd?: number;
  /** The target program (freplace). */
  attachProgFd?: number;
  /** For messages: "FUNC tcp_connect in vmlinux", "FUNC check_len of program target_prog". */
  describe: string;
  /** The module, when not vmlinux. */
  module?: string;
}

function what(file: string, prog: ProgramSpec): string {
  return `program ${prog.name} (section ${prog.section}, ${enumName(ProgType, prog.type)}) in ${file}`;
}

/**
 * The attach target of `prog`, or undefined when its type takes none. `targetProgram` is the program
 * a freplace program replaces a function of (BpfObject.setAttachTarget / LoadOptions.attachTargets).
 */
export function resolveAttachTarget(file: string, prog: ProgramSpec, kernel: KernelBtfs, targetProgram?: Fd): AttachTarget | undefined {
  if (prog.type === ProgType.STRUCT_OPS) return undefined; // set from the struct_ops map
  if (!needsAttachBtf(prog) && !targetProgram) return undefined;
  if (prog.attachBtfId) return { attachBtfId: prog.attachBtfId, attachProgFd: targetProgram?.value, describe: `type id ${prog.attachBtfId} (given)` };
  if (!prog.attachTo) {
    throw new UsageError('BAD_ARGUMENT', `${what(file, prog)} names no attach target: write the section as "${prog.section}/TARGET", or set one before load (obj.setAttachTarget('${prog.name}', …))`);
  }
  if (prog.type === ProgType.EXT || targetProgram) return programTarget(file, prog, targetProgram);

  const target = attachTargetName(prog)!;
  const kindName = target.kind === BtfKind.TYPEDEF ? 'BTF-typed tracepoint' : prog.expectedAttachType === AttachType.TRACE_ITER ? 'BPF iterator' : prog.type === ProgType.LSM ? 'LSM hook' : 'function';
  const colon = prog.attachTo.indexOf(':');
  const module = colon >= 0 ? prog.attachTo.slice(0, colon) : undefined;
  const searched: string[] = [];
  if (!module || module === 'vmlinux') {
    searched.push(kernel.vmlinuxPath);
    const id = find(kernel.vmlinux, target.name, target.kind);
    if (id !== undefined) return { attachBtfId: id, describe: `${target.kind === BtfKind.TYPEDEF ? 'TYPEDEF' : 'FUNC'} ${target.name} in vmlinux` };
  }
  if (module !== 'vmlinux') {
    for (const m of kernel.modules()) {
      if (module && m.name !== module) continue;
      searched.push(`module ${m.name}`);
      const id = findOwn(m.btf, target.name, target.kind);
      if (id !== undefined) return { attachBtfId: id, attachBtfObjFd: m.fd.value, module: m.name, describe: `${target.kind === BtfKind.TYPEDEF ? 'TYPEDEF' : 'FUNC'} ${target.name} in module ${m.name}` };
    }
  }
  const thing = `${target.kind === BtfKind.TYPEDEF ? 'BTF-typed tracepoint' : kindName} ${target.name}`;
  const where = searched.length === 0 ? `no loaded module ${module} has BTF (so no ${thing})`
    : searched.length === 1 ? `${searched[0]} has no ${thing}` : `none of ${searched.join(', ')} has a ${thing}`;
  throw new UsageError('NOT_SUPPORTED', `${what(file, prog)} attaches to ${prog.attachTo}, but ${where} (libbpf: "failed to find kernel BTF type ID of '${prog.attachTo}'")`, {
    hint: target.kind === BtfKind.TYPEDEF ? 'check the tracepoint name (ls /sys/kernel/tracing/events/*/), or use SEC("raw_tp/…") / SEC("tracepoint/…")'
      : module ? `load module ${module} (modprobe ${module}), or check the name` : 'the function may be missing, inlined or static on this kernel (grep it in /sys/kernel/btf/vmlinux with bpftool btf dump file /sys/kernel/btf/vmlinux), or in a module that is not loaded',
  });
}

function find(btf: LazyBtf, name: string, kind: number): number | undefined {
  return btf.idsByEssentialName(name).find((i) => btf.kindOf(i) === kind && btf.type(i).name === name);
}

/** freplace: the FUNC named by the section in the target program's own BTF (libbpf_find_prog_btf_id). */
function programTarget(file: string, prog: ProgramSpec, target: Fd | undefined): AttachTarget {
  if (!target) {
    throw new UsageError('BAD_ARGUMENT', `${what(file, prog)} replaces function ${prog.attachTo} of another BPF program, but no target program was given (libbpf: "attach program FD is not set")`, {
      hint: `obj.setAttachTarget('${prog.name}', targetProgram) before load(), or load({ attachTargets: { ${prog.name}: targetProgram } }) — the target is a loaded program with BTF that has a global function ${prog.attachTo}`,
    });
  }
  const info = programInfo(target, `freplace target of ${prog.name}`);
  if (!info.btfId) {
    throw new UsageError('BAD_ARGUMENT', `${what(file, prog)}: its target program ${info.name} (id ${info.id}) was loaded without BTF, so function ${prog.attachTo} cannot be found in it (libbpf: "The target program doesn't have BTF")`, {
      hint: 'load the target from an object built with clang -g',
    });
  }
  const r = btfGetFdByIdTry(info.btfId, `BTF of program ${info.name}`);
  if (!r.fd) throw new UsageError('BAD_ARGUMENT', `${what(file, prog)}: the BTF (id ${info.btfId}) of target program ${info.name} cannot be opened: ${errnoName(r.errno)}`);
  let btf: Btf;
  try {
    btf = Btf.parse(btfData(r.fd, `BTF of program ${info.name}`), `BTF of program ${info.name}`, 'BTF');
  } finally {
    r.fd.close();
  }
  const func = btf.find(prog.attachTo, BtfKind.FUNC);
  if (!func) {
    throw new UsageError('BAD_ARGUMENT', `${what(file, prog)} replaces function ${prog.attachTo}, but target program ${info.name} has no such function in its BTF (libbpf: "${prog.attachTo} is not found in prog's BTF")`, {
      hint: 'the target must be a global (non-static, non-inlined) function of the target program: __attribute__((noinline)) int ' + prog.attachTo + '(...)',
    });
  }
  return { attachBtfId: func.id, attachProgFd: target.value, describe: `FUNC ${prog.attachTo} of program ${info.name}` };
}
