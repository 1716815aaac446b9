// Where a uprobe goes: a binary (found like the dynamic loader and the shell would find it) and a
// file offset in it, from a symbol of its ELF symbol tables. A symbol's value is a virtual address;
// the kernel wants the offset in the file, so the address is mapped back through the executable
// PT_LOAD segment that contains it (offset = value - p_vaddr + p_offset).
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PF_X = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;

/** Library directories searched for a bare "libfoo.so.N", after LD_LIBRARY_PATH (as ld.so does, minus its cache). */
const LIB_DIRS = ['/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];
function multiarchDirs(): string[] {
  const triple = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', riscv64: 'riscv64-linux-gnu', s390x: 's390x-linux-gnu', ppc64: 'powerpc64le-linux-gnu' }[process.arch as string];
  return triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : [];
}

/**
 * The absolute path of `binary`: a path as given (absolute or relative), a library name ("libc.so.6")
 * found in the libraries process `pid` has mapped, LD_LIBRARY_PATH or the standard directories, or a
 * program name found on PATH. libbpf resolves the same way.
 */
export function resolveBinary(binary: string, pid?: number): string {
  if (binary.includes('/')) {
    const abs = isAbsolute(binary) ? binary : resolve(binary);
    if (!existsSync(abs)) throw new UsageError('BAD_PATH', `uprobe target ${binary} does not exist`, { hint: 'give the path of an ELF executable or shared library' });
    return abs;
  }
  if (binary.includes('.so')) {
    if (pid !== undefined && pid > 0) {
      try {
        for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
          const path = line.split(/\s+/)[5];
          if (path && path.endsWith(`/${binary}`)) return `/proc/${pid}/root${path}`;
        }
      } catch { /* the process is gone or not ours to read: search the usual places */ }
    }
    const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...multiarchDirs(), ...LIB_DIRS];
    for (const d of dirs) if (existsSync(join(d, binary))) return join(d, binary);
    throw new UsageError('BAD_PATH', `library ${binary} not found (looked in ${dirs.join(', ')})`, { hint: 'give its absolute path' });
  }
  for (const d of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(d, binary);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  throw new UsageError('BAD_PATH', `program ${binary} not found on PATH`, { hint: 'give its absolute path' });
}

interface Reader { path: string; fd: number; read(at: bigint | number, len: number): Buffer }

function reader(path: string): Reader {
  const fd = openSync(path, 'r');
  return {
    path, fd,
    read(at, len) {
      const b = Buffer.alloc(len);
      const n = readSync(fd, b, 0, len, Number(at));
      return b.subarray(0, n);
    },
  };
}

interface Segment { vaddr: bigint; memsz: bigint; offset: bigint; executable: boolean }
export interface ElfSymbolHit { name: string; value: bigint; size: bigint; type: number; bind: number; table: '.symtab' | '.dynsym' }

function header(r: Reader): { phoff: bigint; phentsize: number; phnum: number; shoff: bigint; shentsize: number; shnum: number } {
  const h = r.read(0, 64);
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw new UsageError('BAD_ARGUMENT', `${r.path} is not an ELF file`, { hint: 'uprobes attach to ELF executables and shared libraries' });
  if (h[4] !== 2 || h[5] !== 1) throw new UsageError('NOT_SUPPORTED', `${r.path} is not a 64-bit little-endian ELF file`);
  return { phoff: h.readBigUInt64LE(32), shoff: h.readBigUInt64LE(40), phentsize: h.readUInt16LE(54), phnum: h.readUInt16LE(56), shentsize: h.readUInt16LE(58), shnum: h.readUInt16LE(60) };
}

function segments(r: Reader, h: ReturnType<typeof header>): Segment[] {
  const out: Segment[] = [];
  const table = r.read(h.phoff, h.phentsize * h.phnum);
  for (let i = 0; i < h.phnum; i++) {
    const p = table.subarray(i * h.phentsize);
    if (p.readUInt32LE(0) !== PT_LOAD) continue;
    out.push({ executable: (p.readUInt32LE(4) & PF_X) !== 0, offset: p.readBigUInt64LE(8), vaddr: p.readBigUInt64LE(16), memsz: p.readBigUInt64LE(40) });
  }
  return out;
}

/** Every defined symbol named `name` (or, with a predicate, matching it) in .symtab and .dynsym. */
function findSymbols(r: Reader, h: ReturnType<typeof header>, match: (name: string) => boolean): ElfSymbolHit[] {
  const sections = r.read(h.shoff, h.shentsize * h.shnum);
  const sh = (i: number) => {
    const s = sections.subarray(i * h.shentsize);
    return { type: s.readUInt32LE(4), offset: s.readBigUInt64LE(24), size: s.readBigUInt64LE(32), link: s.readUInt32LE(40), entsize: s.readBigUInt64LE(56) };
  };
  const hits: ElfSymbolHit[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const s = sh(i);
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const strtab = sh(s.link);
    const strings = r.read(strtab.offset, Number(strtab.size));
    const syms = r.read(s.offset, Number(s.size));
    const entsize = Number(s.entsize) || 24;
    for (let at = 0; at + 24 <= syms.length; at += entsize) {
      const nameOff = syms.readUInt32LE(at);
      if (!nameOff || syms.readUInt16LE(at + 6) === SHN_UNDEF) continue;
      const end = strings.indexOf(0, nameOff);
      const name = strings.toString('latin1', nameOff, end < 0 ? strings.length : end);
      if (!match(name)) continue;
      const info = syms[at + 4]!;
      hits.push({ name, value: syms.readBigUInt64LE(at + 8), size: syms.readBigUInt64LE(at + 16), type: info & 0xf, bind: info >> 4, table: s.type === SHT_SYMTAB ? '.symtab' : '.dynsym' });
    }
  }
  return hits;
}

function fileOffset(path: string, segs: Segment[], sym: ElfSymbolHit): number {
  const seg = segs.find((s) => s.executable && sym.value >= s.vaddr && sym.value < s.vaddr + s.memsz)
    ?? segs.find((s) => sym.value >= s.vaddr && sym.value < s.vaddr + s.memsz);
  if (!seg) throw new UsageError('BAD_ARGUMENT', `symbol ${sym.name} of ${path} (0x${sym.value.toString(16)}) is in no loadable segment`, { hint: 'give a file offset instead of a symbol' });
  return Number(sym.value - seg.vaddr + seg.offset);
}

function checkFunction(path: string, sym: ElfSymbolHit): void {
  if (sym.type === STT_GNU_IFUNC) {
    throw new UsageError('NOT_SUPPORTED', `symbol ${sym.name} of ${path} is an IFUNC: its address is the resolver, run once, not the function`, {
      hint: 'probe the implementation the resolver picks (e.g. __memcpy_avx_unaligned_erms: see `nm -D` of the library)',
    });
  }
}

/** The file offset of function `symbol` in ELF `path` (from .symtab, else .dynsym). */
export function symbolOffset(path: string, symbol: string): number {
  return symbolOffsets(path, [symbol])[0]!;
}

/** The file offsets of several functions of one ELF file, in the order given. */
export function symbolOffsets(path: string, symbols: string[]): number[] {
  const r = reader(path);
  try {
    const h = header(r);
    const segs = segments(r, h);
    const wanted = new Set(symbols);
    const hits = findSymbols(r, h, (n) => wanted.has(n));
    return symbols.map((symbol) => {
      const all = hits.filter((s) => s.name === symbol);
      if (!all.length) {
        throw new UsageError('BAD_ARGUMENT', `${path} has no symbol ${symbol} (in .symtab or .dynsym)`, { hint: `list its functions with \`nm -D ${path}\` (or \`nm\`); a stripped binary keeps only its exported ones` });
      }
      const funcs = all.filter((s) => s.type === STT_FUNC || s.type === STT_GNU_IFUNC);
      const candidates = funcs.length ? funcs : all;
      // The same function is in both tables; several different addresses under one name is ambiguous.
      const values = [...new Set(candidates.map((s) => s.value))];
      if (values.length > 1) {
        const global = candidates.filter((s) => s.bind === 1);
        const globalValues = [...new Set(global.map((s) => s.value))];
        if (globalValues.length !== 1) {
          throw new UsageError('CONFLICT', `${path} has ${values.length} symbols named ${symbol} at different addresses (${values.map((v) => `0x${v.toString(16)}`).join(', ')})`, { hint: 'give the file offset of the one you mean instead of the name' });
        }
        checkFunction(path, global[0]!);
        return fileOffset(path, segs, global[0]!);
      }
      checkFunction(path, candidates[0]!);
      return fileOffset(path, segs, candidates[0]!);
    });
  } finally {
    closeSync(r.fd);
  }
}

/** Names of the defined functions of ELF `path` matching a glob ("handle_*"), for uprobe.multi patterns. */
export function matchingFunctions(path: string, glob: string): string[] {
  const re = globRegExp(glob);
  const r = reader(path);
  try {
    const h = header(r);
    return [...new Set(findSymbols(r, h, (n) => re.test(n)).filter((s) => s.type === STT_FUNC).map((s) => s.name))].sort();
  } finally {
    closeSync(r.fd);
  }
}

/** A shell-style glob ('*', '?') as an anchored RegExp. */
export function globRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}
