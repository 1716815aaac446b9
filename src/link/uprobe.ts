// uprobes and uretprobes: a program on a place in a user-space binary, given as a function name
// (resolved to a file offset from the binary's ELF symbols) or a file offset — one place per perf
// event of the uprobe PMU (or a legacy tracefs uprobe), or many places of one binary with a single
// uprobe.multi link (6.6+). With `pid`, only that process triggers it.
import { UsageError } from '../errors.js';
import { hasKernelStruct, hasProbePmu } from '../features/probe.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { openLegacyProbe, openProbePmu, probeName, type UprobeSpec } from '../sys/perf-probe.js';
import { u64Array } from '../sys/pointers.js';
import { MultiProbeFlag } from '../uapi/attach.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { UprobeLink, UprobeMultiLink } from './link.js';
import { attachToPerfEvent, type PerfAttachOptions, type PerfEventAttachment } from './perf-event.js';
import type { AttachableProgram } from './types.js';
import { matchingFunctions, resolveBinary, symbolOffset, symbolOffsets } from './uprobe-target.js';

export interface UprobeOptions extends PerfAttachOptions {
  /** The function to probe, by its ELF symbol name. Without it, `offset` is a file offset. */
  symbol?: string;
  /** Bytes after the symbol's start, or the file offset when there is no symbol. */
  offset?: number;
  /** A uretprobe: run when the function returns. */
  retprobe?: boolean;
  /** Only this process (default: every process that runs the binary). */
  pid?: number;
  /** File offset of a USDT semaphore the kernel increments while the probe is attached (4.20+). */
  refCtrOffset?: number;
  /** How the probe is made: the uprobe PMU (default where present) or tracefs uprobe_events. */
  via?: 'pmu' | 'tracefs';
}

function checkUprobeProgram(prog: AttachableProgram, multi: boolean): void {
  if (prog.type !== ProgType.KPROBE) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a uprobe program (SEC("uprobe/…"), "uretprobe/…", "uprobe.multi/…")`);
  const isMulti = prog.expectedAttachType === AttachType.TRACE_UPROBE_MULTI;
  if (multi && !isMulti) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} was loaded for single uprobes: a uprobe.multi link needs a program loaded with expected attach type TRACE_UPROBE_MULTI`, { hint: 'put it in SEC("uprobe.multi/…") (or set expectedAttachType on its spec before load)' });
  }
  if (!multi && isMulti) throw new UsageError('BAD_ARGUMENT', `${prog.what} was loaded for uprobe.multi links`, { hint: 'attach it with attachUprobeMulti(), or load it from SEC("uprobe/…")' });
}

/** "PATH:SYMBOL", "PATH:SYMBOL+0x10" or "PATH:0x1130" (libbpf's uprobe section syntax). */
export function parseUprobeTarget(target: string): { binary: string; symbol?: string; offset: number } {
  const at = target.lastIndexOf(':');
  if (at <= 0) throw new UsageError('BAD_ARGUMENT', `"${target}" is not BINARY:FUNCTION`, { hint: 'e.g. "/usr/bin/bash:readline", "libc.so.6:malloc" or "/path/to/prog:0x1130"' });
  const binary = target.slice(0, at);
  const place = target.slice(at + 1);
  if (/^(0x[0-9a-f]+|\d+)$/i.test(place)) return { binary, offset: Number(place) };
  const m = /^([^+\s]+)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(place);
  if (!m) throw new UsageError('BAD_ARGUMENT', `"${place}" is not FUNCTION, FUNCTION+OFFSET or OFFSET (in ${target})`);
  return { binary, symbol: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}

/**
 * Attach a uprobe program to a place in `binary` (a path, a library name such as "libc.so.6", or a
 * program on PATH): the function `symbol` (+ `offset`), or the file offset `offset`.
 */
export function attachUprobe(prog: AttachableProgram, binary: string, opts: UprobeOptions = {}): UprobeLink | PerfEventAttachment {
  checkUprobeProgram(prog, false);
  const path = resolveBinary(binary, opts.pid);
  if (opts.symbol === undefined && opts.offset === undefined) throw new UsageError('BAD_ARGUMENT', `${prog.what}: give the function (symbol) or the file offset to probe in ${path}`);
  const offset = (opts.symbol !== undefined ? symbolOffset(path, opts.symbol) : 0) + (opts.offset ?? 0);
  const spec: UprobeSpec = { kind: 'uprobe', path, offset, retprobe: opts.retprobe ?? false, refCtrOffset: opts.refCtrOffset };
  const where = opts.symbol !== undefined ? `${probeName(spec)} (${opts.symbol}${opts.offset ? `+0x${opts.offset.toString(16)}` : ''})` : probeName(spec);
  const description = `${prog.what} to ${where}${opts.pid !== undefined ? ` in pid ${opts.pid}` : ''}`;
  const via = opts.via ?? (hasProbePmu('uprobe') ? 'pmu' : 'tracefs');
  if (via === 'pmu') return attachToPerfEvent(prog, openProbePmu(spec, opts.pid), 'uprobe', description, UprobeLink, opts);
  const legacy = openLegacyProbe(spec, opts.pid);
  return attachToPerfEvent(prog, legacy.fd, 'uprobe', `${description} (tracefs ${legacy.event})`, UprobeLink, opts, () => { legacy.remove(); });
}

export interface UprobeMultiOptions {
  /** Functions by name. */
  symbols?: string[];
  /** Or a glob over the binary's function symbols, e.g. "handle_*". */
  pattern?: string;
  /** Or file offsets. */
  offsets?: number[];
  /** USDT semaphores, one per place (file offsets; 0 for none). */
  refCtrOffsets?: number[];
  /** Values for bpf_get_attach_cookie(), one per place. */
  cookies?: bigint[];
  retprobe?: boolean;
  /** Only this process. */
  pid?: number;
}

/** Attach a uprobe.multi program to many places of one binary with one link (6.6+). */
export function attachUprobeMulti(prog: AttachableProgram, binary: string, opts: UprobeMultiOptions): UprobeMultiLink {
  checkUprobeProgram(prog, true);
  const path = resolveBinary(binary, opts.pid);
  const given = [opts.symbols, opts.pattern, opts.offsets].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UsageError('BAD_ARGUMENT', `${prog.what}: give exactly one of symbols, pattern or offsets for a uprobe.multi link on ${path}`);
  const symbols = opts.pattern !== undefined ? matchingFunctions(path, opts.pattern) : opts.symbols;
  const offsets = symbols ? symbolOffsets(path, symbols) : opts.offsets!;
  const what = opts.pattern !== undefined ? `functions matching ${opts.pattern}` : symbols ? (symbols.length <= 3 ? symbols.join(', ') : `${symbols.length} functions`) : `${offsets.length} offsets`;
  const description = `${prog.what} to ${opts.retprobe ? 'uretprobe' : 'uprobe'}.multi on ${what} of ${path}${opts.pid !== undefined ? ` in pid ${opts.pid}` : ''}`;
  if (!offsets.length) throw new UsageError('BAD_ARGUMENT', `${description}: nothing to attach to`);
  for (const [name, list] of [['cookies', opts.cookies], ['refCtrOffsets', opts.refCtrOffsets]] as const) {
    if (list && list.length !== offsets.length) throw new UsageError('BAD_ARGUMENT', `${description}: ${list.length} ${name} for ${offsets.length} places`);
  }
  const r = linkCreateTry({
    prog_fd: prog.fd.value, attach_type: AttachType.TRACE_UPROBE_MULTI,
    'uprobe_multi.path': path, 'uprobe_multi.offsets': u64Array(offsets), 'uprobe_multi.cnt': offsets.length,
    'uprobe_multi.ref_ctr_offsets': opts.refCtrOffsets ? u64Array(opts.refCtrOffsets) : undefined,
    'uprobe_multi.cookies': opts.cookies ? u64Array(opts.cookies) : undefined,
    'uprobe_multi.flags': opts.retprobe ? MultiProbeFlag.RETURN : 0, 'uprobe_multi.pid': opts.pid,
  }, description);
  if (r.fd) return new UprobeMultiLink('uprobe_multi', r.fd, AttachType.TRACE_UPROBE_MULTI, description);
  if (r.errno === Errno.EOPNOTSUPP || r.errno === Errno.ENOTSUPP || (r.errno === Errno.EINVAL && !hasKernelStruct('bpf_uprobe_multi_link'))) {
    throw new UsageError('NOT_SUPPORTED', `${description}: this kernel has no uprobe.multi links`, { hint: 'they need Linux 6.6+ (CONFIG_UPROBES); attach one uprobe per place instead (attachUprobe)' });
  }
  throw bpfError('BPF_LINK_CREATE', r.errno, description);
}
