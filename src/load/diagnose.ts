// Saying why the kernel refused a program in the kernel's terms, not the user's: an EPERM for a
// privileged process is not about privileges, and a program kind the kernel refuses altogether is
// not the program's fault. The kind is probed with a two-instruction program of the same type,
// attach type and attach target (features/probe.ts): refused too → the kernel lacks the feature.
// Also: the verifier naming a poisoned instruction (a weak kfunc the kernel lacks, called without a
// guard; a map that was not created) becomes an error naming the kfunc or map.
import { BpfError, VerifierError } from '../errors.js';
import { probeProgramKind } from '../features/probe.js';
import { POISON_KFUNC_BASE, POISON_MAP_BASE, type ProgramSpec } from '../object/index.js';
import { privileged, PRIVILEGE_HINT } from '../sys/caps.js';
import type { ProgLoadValues } from '../sys/commands.js';
import { Errno, errnoName } from '../sys/errno.js';
import { AttachType, enumName, ProgType } from '../uapi/enums.js';

/** The feature a program kind needs, in words, for messages: "fentry needs BPF trampolines". */
function kindNeeds(prog: Pick<ProgramSpec, 'type' | 'expectedAttachType' | 'section'>): { kind: string; needs?: string } {
  const kind = prog.section.split('/')[0] || enumName(ProgType, prog.type);
  if (prog.type === ProgType.TRACING) {
    switch (prog.expectedAttachType) {
      case AttachType.TRACE_FENTRY: case AttachType.TRACE_FEXIT: case AttachType.MODIFY_RETURN:
        return { kind, needs: 'BPF trampolines to kernel functions (x86-64/arm64 with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS; not allowed under lockdown)' };
      case AttachType.TRACE_RAW_TP: return { kind, needs: 'BTF-typed tracepoints (5.5+)' };
      case AttachType.TRACE_ITER: return { kind, needs: 'BPF iterators (5.8+)' };
      default: return { kind };
    }
  }
  if (prog.type === ProgType.LSM) return { kind, needs: 'the BPF LSM (CONFIG_BPF_LSM, "bpf" in the lsm= boot list) and BPF trampolines' };
  if (prog.type === ProgType.EXT) return { kind, needs: 'BPF trampolines (freplace replaces a function of another program through one)' };
  if (prog.type === ProgType.STRUCT_OPS) return { kind, needs: 'struct_ops for this struct (and BPF trampolines)' };
  return { kind };
}

/**
 * Explain a refused BPF_PROG_LOAD. Returns the error to throw (the same one when there is nothing
 * better to say).
 */
export function explainProgLoad(err: unknown, attr: ProgLoadValues, prog: ProgramSpec, what: string, externNames: readonly string[], mapNames: readonly string[]): unknown {
  if (err instanceof VerifierError) {
    const m = /unknown#(\d+)/.exec(err.verdict);
    const n = m ? Number(m[1]) : NaN;
    if (n >= POISON_KFUNC_BASE && n < POISON_KFUNC_BASE + 1000000 && externNames[n - POISON_KFUNC_BASE]) {
      const ext = externNames[n - POISON_KFUNC_BASE]!;
      return new VerifierError(err.errno, err.code, `the verifier refused ${what}: it calls kfunc ${ext}, which this kernel does not have (a __weak extern left unresolved), on a path the verifier cannot rule out${err.source ? `\n  at ${err.source.file}:${err.source.line}: ${err.source.text}` : ''}`, err.verdict, {
        hint: `guard the call with if (bpf_ksym_exists(${ext})) so the verifier prunes it on kernels without it`, log: err.log, source: err.source, insn: err.insn,
      });
    }
    if (n >= POISON_MAP_BASE && n < POISON_MAP_BASE + 1000000 && mapNames[n - POISON_MAP_BASE]) {
      const map = mapNames[n - POISON_MAP_BASE]!;
      return new VerifierError(err.errno, err.code, `the verifier refused ${what}: it uses map ${map}, which was not created (autocreate is off)${err.source ? `\n  at ${err.source.file}:${err.source.line}: ${err.source.text}` : ''}`, err.verdict, {
        hint: `create the map (obj.maps.get('${map}').autocreate = true) or leave this program out`, log: err.log, source: err.source, insn: err.insn,
      });
    }
    return err;
  }
  if (!(err instanceof BpfError) || err.op !== 'BPF_PROG_LOAD') return err;
  if (err.errno !== Errno.EPERM && err.errno !== Errno.EOPNOTSUPP && err.errno !== Errno.ENOTSUPP) return err;
  if (err.errno === Errno.EPERM && !privileged()) {
    return new BpfError('BPF_PROG_LOAD', err.errno, err.code, `BPF_PROG_LOAD failed for ${what}: ${err.code}`, { hint: PRIVILEGE_HINT, log: err.log, cause: err });
  }
  // Is it the kind or this program? A trivial program of the same kind answers.
  const errno = probeProgramKind({
    type: attr.prog_type ?? 0, expectedAttachType: attr.expected_attach_type ?? 0, attachBtfId: attr.attach_btf_id as number | undefined,
    attachBtfObjFd: attr.attach_btf_obj_fd as number | undefined, attachProgFd: attr.attach_prog_fd as number | undefined, flags: attr.prog_flags as number | undefined,
  });
  const { kind, needs } = kindNeeds(prog);
  if (errno === 0) {
    if (err.errno !== Errno.EPERM) return err;
    return new BpfError('BPF_PROG_LOAD', err.errno, err.code, `BPF_PROG_LOAD failed for ${what}: ${err.code}, although this kernel loads a trivial ${kind} program of the same kind for this process`, {
      hint: 'the program uses something the kernel forbids even to root: under lockdown (cat /sys/kernel/security/lockdown) e.g. bpf_probe_write_user or reading kernel memory; see dmesg', log: err.log, cause: err,
    });
  }
  if (errno !== err.errno) return err;
  const message = needs
    ? `${kind} needs ${needs}: this kernel refused them (${errnoName(errno)} for ${what}, and for a two-instruction ${kind} program too)`
    : `this kernel refuses ${kind} programs (${enumName(ProgType, attr.prog_type ?? 0)}) to this process: ${errnoName(errno)} for ${what}, and for a two-instruction one too`;
  return new BpfError('BPF_PROG_LOAD', err.errno, err.code, message, {
    hint: `the program is not at fault; load it on a kernel that has this, or leave it out of the load (obj.programs.get('${prog.name}').autoload = false, or load({ programs: [...] }))`,
    log: err.log, cause: err,
  });
}
