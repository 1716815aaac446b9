export { decode, disassemble, formatInstruction, branchTarget, InsnClass, LD_IMM64 } from './disasm.js';
export type { Instruction, InsnTarget, FormatOptions, DisassembledLine } from './disasm.js';
export { HELPER_NAMES, helperName, helperId } from './helpers.js';
export { encode, type Insn } from './encode.js';
