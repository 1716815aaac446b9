// The BTF.ext records a linked program carries to BPF_PROG_LOAD: func_info and line_info encoded as
// the kernel reads them, and the C line of an instruction (for verifier errors).
import { basename } from 'node:path';
import type { FuncInfo, LineInfo } from './spec.js';
import type { SourceLine } from '../errors.js';

/** bpf_func_info records: {insn_off (instructions), type_id}, 8 bytes each. */
export const FUNC_INFO_REC_SIZE = 8;
/** bpf_line_info records: {insn_off, file_name_off, line_off, line << 10 | column}, 16 bytes each. */
export const LINE_INFO_REC_SIZE = 16;

export function encodeFuncInfo(list: readonly FuncInfo[]): Buffer {
  const b = Buffer.alloc(list.length * FUNC_INFO_REC_SIZE);
  list.forEach((f, i) => { b.writeUInt32LE(f.insn, i * 8); b.writeUInt32LE(f.typeId, i * 8 + 4); });
  return b;
}

export function encodeLineInfo(list: readonly LineInfo[]): Buffer {
  const b = Buffer.alloc(list.length * LINE_INFO_REC_SIZE);
  list.forEach((l, i) => {
    const at = i * LINE_INFO_REC_SIZE;
    b.writeUInt32LE(l.insn, at); b.writeUInt32LE(l.fileNameOff, at + 4); b.writeUInt32LE(l.lineOff, at + 8);
    b.writeUInt32LE(((l.lineNumber << 10) | (l.column & 0x3ff)) >>> 0, at + 12);
  });
  return b;
}

/** The C line of instruction `insn` (the last line_info at or before it). The file is named by its
 * base name, as the kernel's own "; text @ file:line" (6.4+) names it: the same on every kernel. */
export function sourceFinder(lineInfo: readonly LineInfo[]): (insn: number) => SourceLine | undefined {
  return (insn) => {
    let best: LineInfo | undefined;
    for (const l of lineInfo) if (l.insn <= insn && (!best || l.insn >= best.insn)) best = l;
    return best ? { file: basename(best.fileName), line: best.lineNumber, text: best.line.trim() } : undefined;
  };
}
