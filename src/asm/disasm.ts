// The disassembler: BPF instructions → the assembly text llvm-objdump prints (and bpftool close to
// it): `r1 = *(u32 *)(r6 + 4)`, `if w1 != 7 goto +203`, `lock *(u64 *)(r1 + 0) += r2`, `r1 = 0 ll`.
// With context (relocations, helper names, labels) it says what the numbers mean:
// `r1 = map[sock_hash] ll`, `call bpf_sock_hash_update`, `goto +39 <LBB0_2>`.
//
// Every instruction is 8 bytes: opcode (class in the low 3 bits), dst_reg (low nibble) and src_reg
// (high nibble), a signed 16-bit offset and a signed 32-bit immediate. ld_imm64 takes two slots; the
// second carries the upper 32 bits of the immediate.
import { Pseudo } from '../uapi/enums.js';
import { helperName } from './helpers.js';

/** Instruction classes (opcode & 0x07). */
export const InsnClass = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
const CLASS_NAMES = ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64'] as const;

/** Load/store size (opcode & 0x18) and mode (opcode & 0xe0). */
const SIZE: Record<number, string> = { 0x00: 'u32', 0x08: 'u16', 0x10: 'u8', 0x18: 'u64' };
const SIGNED_SIZE: Record<number, string> = { 0x00: 's32', 0x08: 's16', 0x10: 's8', 0x18: 's64' };
const Mode = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** ALU operations (opcode & 0xf0) and their C-like operators. */
const ALU_OPS: Record<number, string> = {
  0x00: '+=', 0x10: '-=', 0x20: '*=', 0x30: '/=', 0x40: '|=', 0x50: '&=', 0x60: '<<=', 0x70: '>>=',
  0x90: '%=', 0xa0: '^=', 0xc0: 's>>=',
};
const ALU_NEG = 0x80;
const ALU_MOV = 0xb0;
const ALU_END = 0xd0;

/** Jump operations (opcode & 0xf0). */
const JMP_OPS: Record<number, string> = {
  0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&', 0x50: '!=', 0x60: 's>', 0x70: 's>=', 0xa0: '<', 0xb0: '<=', 0xc0: 's<', 0xd0: 's<=',
};
const JMP_JA = 0x00;
const JMP_CALL = 0x80;
const JMP_EXIT = 0x90;
const JMP_JCOND = 0xe0;

/** Atomic operations (imm of a STX|ATOMIC instruction). */
const ATOMIC_FETCH = 0x01;
const ATOMIC_OPS: Record<number, { op: string; name: string }> = {
  0x00: { op: '+=', name: 'add' }, 0x40: { op: '|=', name: 'or' }, 0x50: { op: '&=', name: 'and' }, 0xa0: { op: '^=', name: 'xor' },
};
const ATOMIC_XCHG = 0xe0 | ATOMIC_FETCH;
const ATOMIC_CMPXCHG = 0xf0 | ATOMIC_FETCH;
const ATOMIC_LOAD_ACQ = 0x100;
const ATOMIC_STORE_REL = 0x110;

export const LD_IMM64 = 0x18;

/** One decoded instruction. `imm64` is set on ld_imm64 (which then occupies slots index and index+1). */
export interface Instruction {
  /** Slot index in the buffer (an ld_imm64 counts two). */
  index: number;
  opcode: number;
  class: (typeof CLASS_NAMES)[number];
  dst: number;
  src: number;
  off: number;
  imm: number;
  imm64?: bigint;
  /** Slots taken: 2 for ld_imm64, else 1. */
  size: 1 | 2;
}

/** Decode a buffer of instructions. A truncated trailing ld_imm64 is decoded as a one-slot instruction. */
export function decode(insns: Buffer): Instruction[] {
  const out: Instruction[] = [];
  const count = Math.floor(insns.length / 8);
  for (let i = 0; i < count; i++) {
    const at = i * 8;
    const opcode = insns[at]!;
    const regs = insns[at + 1]!;
    const x: Instruction = {
      index: i, opcode, class: CLASS_NAMES[opcode & 0x07]!, dst: regs & 0x0f, src: regs >> 4,
      off: insns.readInt16LE(at + 2), imm: insns.readInt32LE(at + 4), size: 1,
    };
    if (opcode === LD_IMM64 && i + 1 < count) {
      const lo = BigInt(insns.readUInt32LE(at + 4));
      const hi = BigInt(insns.readUInt32LE(at + 12));
      x.imm64 = (hi << 32n) | lo;
      x.size = 2;
      i++;
    }
    out.push(x);
  }
  return out;
}

/** What an instruction's numbers refer to, from the object's relocations (see object/spec.ts Relocation). */
export type InsnTarget =
  | { kind: 'map'; map: string }
  | { kind: 'data'; map: string; offset: number; variable?: string }
  | { kind: 'call'; target: string }
  | { kind: 'func'; target: string };

export interface FormatOptions {
  /** Name helpers (`call bpf_map_lookup_elem`) instead of numbering them (`call 1`). Default true. */
  helperNames?: boolean;
  /** What the instruction at `index` refers to (a relocation), when known. */
  target?: (index: number) => InsnTarget | undefined;
  /** A label for the instruction at `index` (jump targets are annotated `<label>`). */
  label?: (index: number) => string | undefined;
  /** Comparison constants of jumps at or above this (absolute value) are printed in hex. Default: never. */
  hexFrom?: number;
}

const reg = (n: number) => `r${n}`;
const wreg = (n: number) => `w${n}`;

function mem(base: number, off: number): string {
  return off >= 0 ? `${reg(base)} + ${off}` : `${reg(base)} - ${-off}`;
}

function jumpTarget(x: Instruction, distance: number, o: FormatOptions): string {
  const label = o.label?.(x.index + distance + 1);
  return `${distance >= 0 ? '+' : ''}${distance}${label ? ` <${label}>` : ''}`;
}

function unknown(x: Instruction): string {
  return `<unknown opcode 0x${x.opcode.toString(16).padStart(2, '0')}>`;
}

function formatAlu(x: Instruction): string {
  const is64 = x.class === 'alu64';
  const r = is64 ? reg : wreg;
  const op = x.opcode & 0xf0;
  const useReg = (x.opcode & 0x08) !== 0;
  const operand = useReg ? r(x.src) : String(x.imm);
  if (op === ALU_NEG) return `${r(x.dst)} = -${r(x.dst)}`;
  if (op === ALU_END) {
    if (is64) return `${r(x.dst)} = bswap${x.imm} ${r(x.dst)}`;
    return `${reg(x.dst)} = ${useReg ? 'be' : 'le'}${x.imm} ${reg(x.dst)}`;
  }
  if (op === ALU_MOV) {
    // Sign-extending move (cpu v4): off is the source width.
    if (useReg && (x.off === 8 || x.off === 16 || (is64 && x.off === 32))) return `${r(x.dst)} = (s${x.off})${r(x.src)}`;
    return `${r(x.dst)} = ${operand}`;
  }
  const sym = ALU_OPS[op];
  if (!sym) return unknown(x);
  // Signed division and modulo (cpu v4) carry off = 1.
  if ((op === 0x30 || op === 0x90) && x.off === 1) return `${r(x.dst)} s${sym} ${operand}`;
  return `${r(x.dst)} ${sym} ${operand}`;
}

function formatJmp(x: Instruction, o: FormatOptions): string {
  const is32 = x.class === 'jmp32';
  const op = x.opcode & 0xf0;
  const useReg = (x.opcode & 0x08) !== 0;
  if (op === JMP_JA) return is32 ? `gotol ${jumpTarget(x, x.imm, o)}` : `goto ${jumpTarget(x, x.off, o)}`;
  if (!is32 && op === JMP_EXIT) return 'exit';
  if (!is32 && op === JMP_JCOND) return `may_goto ${jumpTarget(x, x.off, o)}`;
  if (!is32 && op === JMP_CALL) {
    if (useReg) return `callx ${reg(x.imm)}`;
    const t = o.target?.(x.index);
    if (x.src === Pseudo.CALL) {
      if (t && t.kind === 'call') return `call ${t.target}`;
      return `call ${x.imm}`;
    }
    if (x.src === Pseudo.KFUNC_CALL) return `call kfunc ${x.imm}`;
    const name = o.helperNames === false ? undefined : helperName(x.imm);
    return `call ${name ?? x.imm}`;
  }
  const sym = JMP_OPS[op];
  if (!sym) return unknown(x);
  const r = is32 ? wreg : reg;
  const hex = o.hexFrom !== undefined && Math.abs(x.imm) >= o.hexFrom;
  const imm = hex ? (x.imm < 0 ? `-0x${(-x.imm).toString(16)}` : `0x${x.imm.toString(16)}`) : String(x.imm);
  return `if ${r(x.dst)} ${sym} ${useReg ? r(x.src) : imm} goto ${jumpTarget(x, x.off, o)}`;
}

function formatLdImm64(x: Instruction, o: FormatOptions): string {
  const d = reg(x.dst);
  const t = o.target?.(x.index);
  if (t?.kind === 'map') return `${d} = map[${t.map}] ll`;
  if (t?.kind === 'data') return `${d} = map[${t.map}] + ${t.offset} ll${t.variable ? ` ; &${t.variable}` : ''}`;
  if (t?.kind === 'func') return `${d} = func[${t.target}] ll`;
  const lo = x.imm;
  const hi = x.imm64 !== undefined ? Number(x.imm64 >> 32n) | 0 : 0;
  // After the loader's relocation: the kernel's pseudo forms (as bpftool shows them, fd instead of id).
  switch (x.src) {
    case Pseudo.MAP_FD: return `${d} = map[fd ${lo}] ll`;
    case Pseudo.MAP_VALUE: return `${d} = map[fd ${lo}] + ${hi} ll`;
    case Pseudo.BTF_ID: return `${d} = btf_id ${lo} ll`;
    case Pseudo.FUNC: return `${d} = func[${lo >= -1 ? '+' : ''}${lo + 1}] ll`;
    case Pseudo.MAP_IDX: return `${d} = map[idx ${lo}] ll`;
    case Pseudo.MAP_IDX_VALUE: return `${d} = map[idx ${lo}] + ${hi} ll`;
    default: return `${d} = ${x.imm64 ?? BigInt(lo >>> 0)} ll`;
  }
}

function formatLd(x: Instruction, o: FormatOptions): string {
  const mode = x.opcode & 0xe0;
  const size = SIZE[x.opcode & 0x18]!;
  if (x.opcode === LD_IMM64) return formatLdImm64(x, o);
  // Legacy packet access (socket filters): r0 = *(u8 *)skb[off] / skb[reg + off].
  if (mode === Mode.ABS) return `r0 = *(${size} *)skb[${x.imm}]`;
  // llvm-objdump prints skb[rN] whatever the imm; the kernel adds it, so we show it when not 0.
  if (mode === Mode.IND) return `r0 = *(${size} *)skb[${x.imm ? mem(x.src, x.imm) : reg(x.src)}]`;
  return unknown(x);
}

function formatAtomic(x: Instruction): string {
  const size = SIZE[x.opcode & 0x18]!;
  const wide = size === 'u64';
  const r = wide ? reg : wreg;
  const addr = mem(x.dst, x.off);
  const basic = ATOMIC_OPS[x.imm & ~ATOMIC_FETCH];
  if (basic && !(x.imm & ATOMIC_FETCH)) return `lock *(${size} *)(${addr}) ${basic.op} ${r(x.src)}`;
  if (basic) return `${r(x.src)} = atomic_fetch_${basic.name}((${size} *)(${addr}), ${r(x.src)})`;
  if (x.imm === ATOMIC_XCHG) return `${r(x.src)} = xchg${wide ? '' : '32'}_${wide ? 64 : 32}(${addr}, ${r(x.src)})`;
  if (x.imm === ATOMIC_CMPXCHG) return `${r(0)} = cmpxchg${wide ? '' : '32'}_${wide ? 64 : 32}(${addr}, ${r(0)}, ${r(x.src)})`;
  if (x.imm === ATOMIC_LOAD_ACQ) return `${reg(x.dst)} = load_acquire((${size} *)(${mem(x.src, x.off)}))`;
  if (x.imm === ATOMIC_STORE_REL) return `store_release((${size} *)(${addr}), ${reg(x.src)})`;
  return unknown(x);
}

/** One instruction as text (llvm-objdump syntax), resolved with whatever `options` knows. */
export function formatInstruction(x: Instruction, options: FormatOptions = {}): string {
  const size = SIZE[x.opcode & 0x18]!;
  const mode = x.opcode & 0xe0;
  switch (x.class) {
    case 'alu': case 'alu64': return formatAlu(x);
    case 'jmp': case 'jmp32': return formatJmp(x, options);
    case 'ld': return formatLd(x, options);
    case 'ldx':
      if (mode === Mode.MEM) return `${reg(x.dst)} = *(${size} *)(${mem(x.src, x.off)})`;
      if (mode === Mode.MEMSX) return `${reg(x.dst)} = *(${SIGNED_SIZE[x.opcode & 0x18]} *)(${mem(x.src, x.off)})`;
      return unknown(x);
    case 'st':
      if (mode === Mode.MEM) return `*(${size} *)(${mem(x.dst, x.off)}) = ${x.imm}`;
      return unknown(x);
    case 'stx':
      if (mode === Mode.MEM) return `*(${size} *)(${mem(x.dst, x.off)}) = ${reg(x.src)}`;
      if (mode === Mode.ATOMIC) return formatAtomic(x);
      return unknown(x);
  }
}

/** A listing line: the slot index, the decoded instruction and its text. */
export interface DisassembledLine { index: number; insn: Instruction; text: string }

/** Decode and format a whole buffer. */
export function disassemble(insns: Buffer, options: FormatOptions = {}): DisassembledLine[] {
  return decode(insns).map((insn) => ({ index: insn.index, insn, text: formatInstruction(insn, options) }));
}

/** Where a jump or bpf-to-bpf call goes (slot index), or undefined for other instructions. */
export function branchTarget(x: Instruction): number | undefined {
  if (x.class !== 'jmp' && x.class !== 'jmp32') return undefined;
  const op = x.opcode & 0xf0;
  if (x.class === 'jmp' && op === JMP_EXIT) return undefined;
  if (x.class === 'jmp' && op === JMP_CALL) return x.src === Pseudo.CALL && !(x.opcode & 0x08) ? x.index + x.imm + 1 : undefined;
  if (x.class === 'jmp32' && op === JMP_JA) return x.index + x.imm + 1;
  return x.index + x.off + 1;
}
