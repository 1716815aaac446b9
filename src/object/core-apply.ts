// Applying CO-RE relocations to a linked program's instructions (libbpf's bpf_core_patch_insn): the
// value resolved by btf/core.ts goes into the immediate (ALU, ld_imm64) or the offset (loads and
// stores, whose width follows a field that changed size). Unresolvable relocations poison the
// instruction with a call to helper #195896080 ("bad relo"), so the verifier names it if reachable;
// explainPoisoned() turns that verdict into an error naming the relocation and type.
import type { Btf } from '../btf/btf.js';
import { CoreError, coreKindName, resolveCoreRelocation, type CoreResult, type TargetSource } from '../btf/core.js';
import { ObjectError } from '../errors.js';
import type { CoreRelo } from '../object/spec.js';
import { VerifierError } from '../errors.js';

/** The invalid helper id libbpf poisons with: 0xbad2310, "bad relo". */
export const POISON_IMM = 195896080;

export interface AppliedCoreRelocation {
  insn: number;
  kind: string;
  /** "struct task_struct___local", and what was accessed ("pid", "parent.tgid", an enumerator). */
  localType: string;
  access: string;
  accessor: string;
  oldValue: bigint;
  newValue: bigint;
  /** The kernel types it resolved to (empty when poisoned or not found). */
  targets: string[];
  poisoned: boolean;
  reason?: string;
}

const CLASS = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, ALU64: 7 } as const;
const SIZE_BYTES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const BYTES_SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

function poison(insns: Buffer, index: number): void {
  const at = index * 8;
  insns[at] = 0x85; // BPF_JMP | BPF_CALL
  insns[at + 1] = 0;
  insns.writeInt16LE(0, at + 2);
  insns.writeInt32LE(POISON_IMM, at + 4);
}

export interface CoreContext {
  file: string;
  local: Btf;
  target: TargetSource;
  /** Where the target BTF came from, for messages ("/sys/kernel/btf/vmlinux"). */
  targetName: string;
  /** Results by relocation (type id, access string, kind): subprograms shared by programs resolve once. */
  cache: Map<string, CoreResult>;
}

export function applyCoreRelocations(ctx: CoreContext, program: string, insns: Buffer, relos: readonly CoreRelo[]): AppliedCoreRelocation[] {
  const applied: AppliedCoreRelocation[] = [];
  for (const r of relos) {
    const key = `${r.typeId}/${r.accessor}/${r.kind}`;
    const kind = coreKindName(r.kind);
    const where = () => `program ${program}, instruction ${r.insn}: CO-RE relocation ${kind} of type id ${r.typeId}` +
      `${res ? ` (${res.localType}${res.access ? `, ${res.access}` : ''})` : ''}, access string "${r.accessor}"`;
    let res = ctx.cache.get(key);
    try {
      if (!res) {
        res = resolveCoreRelocation(ctx.local, ctx.target, r);
        ctx.cache.set(key, res);
      }
    } catch (e) {
      if (e instanceof CoreError) throw new ObjectError(ctx.file, `${where()}: ${e.message} (against ${ctx.targetName})`, { section: '.BTF.ext' });
      throw e;
    }
    const fail = (message: string): never => {
      throw new ObjectError(ctx.file, `${where()}: ${message}; rebuild the object (clang -g -O2 -target bpf) so its BTF and code agree`, { section: '.BTF.ext' });
    };
    const at = r.insn * 8;
    if (at + 8 > insns.length) fail(`instruction ${r.insn} is past the end of the program`);
    const code = insns[at]!;
    const cls = code & 7;
    const isLdImm64 = code === 0x18;
    const record: AppliedCoreRelocation = {
      insn: r.insn, kind, localType: res.localType, access: res.access, accessor: r.accessor,
      oldValue: res.origVal, newValue: res.newVal, targets: res.targets, poisoned: false,
    };
    let poisonReason = res.poison ? res.reason : undefined;
    if (!poisonReason && res.failMemszAdjust && (cls === CLASS.LDX || cls === CLASS.ST || cls === CLASS.STX)) {
      poisonReason = `the field changed to a type of another kind and size (${res.origSize} → ${res.newSize} bytes), so the load cannot be adjusted`;
    }
    if (poisonReason) {
      if (isLdImm64) poison(insns, r.insn + 1);
      poison(insns, r.insn);
      applied.push({ ...record, poisoned: true, reason: poisonReason });
      continue;
    }
    switch (cls) {
      case CLASS.ALU: case CLASS.ALU64: {
        if (code & 0x08) fail(`the instruction (opcode 0x${code.toString(16)}) uses a register operand, not an immediate`);
        const imm = insns.readInt32LE(at + 4);
        if (res.validate && BigInt.asUintN(32, BigInt(imm)) !== BigInt.asUintN(32, res.origVal)) fail(`the instruction holds ${imm}, but the relocation expects ${res.origVal}`);
        if (res.newVal > 0xffffffffn) fail(`the value ${res.newVal} does not fit a 32-bit immediate`);
        insns.writeInt32LE(Number(BigInt.asIntN(32, res.newVal)), at + 4);
        break;
      }
      case CLASS.LDX: case CLASS.ST: case CLASS.STX: {
        const off = insns.readInt16LE(at + 2);
        if (res.validate && BigInt(off) !== res.origVal) fail(`the instruction's offset is ${off}, but the relocation expects ${res.origVal}`);
        if (res.newVal > 32767n) fail(`the new offset ${res.newVal} does not fit an instruction's 16-bit offset`);
        insns.writeInt16LE(Number(res.newVal), at + 2);
        if (res.newSize !== res.origSize) {
          const bytes = SIZE_BYTES[code & 0x18];
          if (bytes !== res.origSize) fail(`the instruction accesses ${bytes} bytes, but the field is ${res.origSize}`);
          const size = BYTES_SIZE[res.newSize];
          if (size === undefined) fail(`the kernel's field is ${res.newSize} bytes, which no load or store can access`);
          insns[at] = (code & ~0x18 & 0xff) | size!;
        }
        break;
      }
      case CLASS.LD: {
        if (!isLdImm64 || at + 16 > insns.length || (insns[at + 1]! >> 4) !== 0 || insns[at + 8] !== 0) fail('the instruction is not a plain 64-bit immediate load (ld_imm64)');
        const imm = (BigInt(insns.readUInt32LE(at + 12)) << 32n) | BigInt(insns.readUInt32LE(at + 4));
        if (res.validate && imm !== res.origVal) fail(`the instruction holds ${imm}, but the relocation expects ${res.origVal}`);
        const v = BigInt.asUintN(64, res.newVal);
        insns.writeUInt32LE(Number(v & 0xffffffffn), at + 4);
        insns.writeUInt32LE(Number(v >> 32n), at + 12);
        break;
      }
      default:
        fail(`the instruction (opcode 0x${code.toString(16)}) is not one CO-RE can relocate`);
    }
    applied.push(record);
  }
  return applied;
}

/**
 * A verifier refusal at a poisoned instruction ("invalid func unknown#195896080") becomes an error that
 * names the relocation, the local type and why it could not be resolved; anything else is returned as is.
 */
export function explainPoisoned(err: unknown, applied: readonly AppliedCoreRelocation[], targetName: string): unknown {
  if (!(err instanceof VerifierError) || !err.verdict.includes(String(POISON_IMM))) return err;
  const r = applied.find((a) => a.poisoned && (a.insn === err.insn || a.insn + 1 === err.insn)) ?? applied.find((a) => a.poisoned);
  if (!r) return err;
  const first = err.message.split('\n')[0]!;
  const at = err.source ? `\n  at ${err.source.file}:${err.source.line}: ${err.source.text}` : '';
  const message = `${first}${at}\n  because CO-RE relocation ${r.kind} at instruction ${r.insn} (${r.localType}${r.access ? `, ${r.access}` : ''}, access string "${r.accessor}") could not be resolved against ${targetName}: ${r.reason}`;
  return new VerifierError(err.errno, err.code, message, err.verdict, {
    hint: 'guard the access with bpf_core_field_exists()/bpf_core_type_exists() so the verifier can prune it, or make the local type match the kernel\'s',
    log: err.log, source: err.source, insn: err.insn,
  });
}
