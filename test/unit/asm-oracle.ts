// llvm-objdump as a test oracle: run it on an object, parse its listing, and normalise text so that
// llvm versions that differ only in how they print numbers compare equal to ours.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './fixtures.js';
import { need } from '../support/tools.js';

/** The llvm-objdump to use: $LLVM_OBJDUMP, else the one on PATH (or llvm-objdump-NN). */
export const llvmObjdumpPath = () => process.env.LLVM_OBJDUMP ?? need('llvm-objdump');

/** Every committed BPF object: bpf/*.bpf.o and bpf/fixtures/*.bpf.o. */
export function committedObjects(): string[] {
  const dir = (d: string) => readdirSync(resolve(REPO_ROOT, d)).filter((f) => f.endsWith('.bpf.o')).sort().map((f) => resolve(REPO_ROOT, d, f));
  return [...dir('bpf'), ...dir('bpf/fixtures')];
}

export interface LlvmListing {
  /** Instruction text by section name and slot index. */
  insns: Map<string, Map<number, string>>;
  /** Relocation (type, symbol) by section name and slot index. */
  relocs: Map<string, Map<number, { type: string; symbol: string }>>;
}

export function llvmObjdump(file: string): LlvmListing {
  const out = execFileSync(llvmObjdumpPath(), ['-d', '-r', '--no-show-raw-insn', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const insns = new Map<string, Map<number, string>>();
  const relocs = new Map<string, Map<number, { type: string; symbol: string }>>();
  let section = '';
  for (const line of out.split('\n')) {
    const s = /^Disassembly of section (.+):$/.exec(line);
    if (s) {
      section = s[1]!;
      insns.set(section, new Map());
      relocs.set(section, new Map());
      continue;
    }
    const r = /^\s+([0-9a-f]+):\s+(R_BPF_\w+)\s+(\S+)/.exec(line);
    if (r) {
      relocs.get(section)!.set(parseInt(r[1]!, 16) / 8, { type: r[2]!, symbol: r[3]! });
      continue;
    }
    const i = /^\s*(\d+):\s+(.*)$/.exec(line);
    if (i && section) insns.get(section)!.set(Number(i[1]), i[2]!.trim());
  }
  return { insns, relocs };
}

/**
 * Text compared modulo what versions of llvm-objdump print differently: label annotations (`<LBB0_2>`),
 * hex or decimal numbers (llvm ≥ 17 prints `r10 - 0x4`, `goto +0x27`), and w or r for the value
 * register of 8/16/32-bit memory operations (decoded with or without the alu32 table). Whitespace
 * collapsed.
 */
export function normalise(text: string): string {
  let t = text.replace(/\s*<[A-Za-z_.$][^>]*>/g, '');
  t = t.replace(/(-?)0x([0-9a-f]+)/gi, (_m, sign: string, hex: string) => (sign ? '-' : '') + BigInt('0x' + hex).toString());
  if (/\*\(u(8|16|32) \*\)|\(u(8|16|32) \*\)|xchg32|cmpxchg32/.test(t)) t = t.replace(/\bw(\d+)\b/g, 'r$1');
  return t.replace(/\s+/g, ' ').trim();
}
