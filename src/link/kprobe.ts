// kprobes and kretprobes: a program on one kernel function (a perf event of the kprobe PMU, or a
// legacy tracefs kprobe where there is no PMU), and kprobe.multi links that put one program on many
// functions at once (BPF_LINK_CREATE with BPF_TRACE_KPROBE_MULTI, 5.18+ with CONFIG_FPROBE).
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { hasKernelStruct, hasProbePmu } from '../features/probe.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { openLegacyProbe, openProbePmu, probeName, type KprobeSpec } from '../sys/perf-probe.js';
import { cStringArray, u64Array } from '../sys/pointers.js';
import { tracefsPath } from '../sys/tracefs.js';
import { MultiProbeFlag } from '../uapi/attach.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { KprobeLink, KprobeMultiLink } from './link.js';
import { attachToPerfEvent, type PerfAttachOptions, type PerfEventAttachment } from './perf-event.js';
import type { AttachableProgram } from './types.js';
import { globRegExp } from './uprobe-target.js';

export interface KprobeOptions extends PerfAttachOptions {
  /** Bytes into the function (kprobes only; a kretprobe takes 0). */
  offset?: number;
  /** A kretprobe: run when the function returns. */
  retprobe?: boolean;
  /** How the probe is made: the kprobe PMU (default where present) or tracefs kprobe_events. */
  via?: 'pmu' | 'tracefs';
}

/** "sym", "sym+0x10" or "sym+16" → symbol and offset. */
export function parseProbeTarget(target: string): { symbol: string; offset: number } {
  const m = /^([^+\s]+)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(target);
  if (!m) throw new UsageError('BAD_ARGUMENT', `"${target}" is not a kernel function, optionally with +OFFSET`, { hint: 'e.g. "do_unlinkat" or "tcp_sendmsg+0x10"' });
  return { symbol: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}

function checkKprobeProgram(prog: AttachableProgram, multi: boolean): void {
  if (prog.type !== ProgType.KPROBE) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a kprobe program (SEC("kprobe/…"), "kretprobe/…", "kprobe.multi/…")`);
  const isMulti = prog.expectedAttachType === AttachType.TRACE_KPROBE_MULTI;
  if (multi && !isMulti) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} was loaded for single kprobes: a kprobe.multi link needs a program loaded with expected attach type TRACE_KPROBE_MULTI`, { hint: 'put it in SEC("kprobe.multi/PATTERN") (or set expectedAttachType on its spec before load)' });
  }
  if (!multi && isMulti) throw new UsageError('BAD_ARGUMENT', `${prog.what} was loaded for kprobe.multi links`, { hint: 'attach it with attachKprobeMulti(), or load it from SEC("kprobe/…")' });
}

/**
 * Attach a kprobe program to kernel function `symbol` (at `offset`), or a kretprobe with `retprobe`.
 * A KprobeLink on 5.15+, a PerfEventAttachment before. Kernels without kprobes (no CONFIG_KPROBES /
 * CONFIG_KPROBE_EVENTS) get a UsageError (NOT_SUPPORTED) that says so.
 */
export function attachKprobe(prog: AttachableProgram, symbol: string, opts: KprobeOptions = {}): KprobeLink | PerfEventAttachment {
  checkKprobeProgram(prog, false);
  const parsed = parseProbeTarget(symbol);
  const spec: KprobeSpec = { kind: 'kprobe', symbol: parsed.symbol, offset: opts.offset ?? parsed.offset, retprobe: opts.retprobe ?? false };
  if (spec.retprobe && spec.offset) throw new UsageError('BAD_ARGUMENT', `${probeName(spec)}: a kretprobe cannot have an offset`);
  const description = `${prog.what} to ${probeName(spec)}`;
  const via = opts.via ?? (hasProbePmu('kprobe') ? 'pmu' : 'tracefs');
  if (via === 'pmu') return attachToPerfEvent(prog, openProbePmu(spec, undefined), 'kprobe', description, KprobeLink, opts);
  const legacy = openLegacyProbe(spec, undefined);
  return attachToPerfEvent(prog, legacy.fd, 'kprobe', `${description} (tracefs ${legacy.event})`, KprobeLink, opts, () => { legacy.remove(); });
}

export interface KprobeMultiOptions {
  /** The functions, by name. */
  symbols?: string[];
  /** Or a glob over the traceable functions (available_filter_functions), e.g. "tcp_*". */
  pattern?: string;
  /** Or kernel addresses. */
  addresses?: bigint[];
  /** Values for bpf_get_attach_cookie(), one per function, in the order given. */
  cookies?: bigint[];
  /** kretprobes instead of kprobes. */
  retprobe?: boolean;
}

/** The traceable kernel functions matching a glob (available_filter_functions; module suffixes dropped). */
export function traceableFunctions(pattern: string): string[] {
  const re = globRegExp(pattern);
  const text = readFileSync(tracefsPath('available_filter_functions', `kernel functions matching ${pattern}`), 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(/\s/)[0];
    if (name && re.test(name) && !name.startsWith('__ftrace_invalid_address__')) names.add(name);
  }
  return [...names].sort();
}

/** Attach a kprobe.multi program to many kernel functions with one link (5.18+, CONFIG_FPROBE). */
export function attachKprobeMulti(prog: AttachableProgram, opts: KprobeMultiOptions): KprobeMultiLink {
  checkKprobeProgram(prog, true);
  const given = [opts.symbols, opts.pattern, opts.addresses].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UsageError('BAD_ARGUMENT', `${prog.what}: give exactly one of symbols, pattern or addresses for a kprobe.multi link`);
  const symbols = opts.pattern !== undefined ? traceableFunctions(opts.pattern) : opts.symbols;
  const count = symbols?.length ?? opts.addresses!.length;
  const target = opts.pattern !== undefined ? `functions matching ${opts.pattern}` : symbols ? (count <= 3 ? symbols.join(', ') : `${count} functions`) : `${count} addresses`;
  const description = `${prog.what} to ${opts.retprobe ? 'kretprobe' : 'kprobe'}.multi on ${target}`;
  if (!count) throw new UsageError('BAD_ARGUMENT', `${description}: no function to attach to`, { hint: opts.pattern !== undefined ? 'the pattern matched no traceable function (see /sys/kernel/tracing/available_filter_functions)' : undefined });
  if (opts.cookies && opts.cookies.length !== count) throw new UsageError('BAD_ARGUMENT', `${description}: ${opts.cookies.length} cookies for ${count} functions`);
  const r = linkCreateTry({
    prog_fd: prog.fd.value, attach_type: AttachType.TRACE_KPROBE_MULTI,
    'kprobe_multi.flags': opts.retprobe ? MultiProbeFlag.RETURN : 0, 'kprobe_multi.cnt': count,
    'kprobe_multi.syms': symbols ? cStringArray(symbols) : undefined,
    'kprobe_multi.addrs': opts.addresses ? u64Array(opts.addresses) : undefined,
    'kprobe_multi.cookies': opts.cookies ? u64Array(opts.cookies) : undefined,
  }, description);
  if (r.fd) return new KprobeMultiLink('kprobe_multi', r.fd, AttachType.TRACE_KPROBE_MULTI, description);
  if (r.errno === Errno.EOPNOTSUPP || r.errno === Errno.ENOTSUPP || (r.errno === Errno.EINVAL && !hasKernelStruct('bpf_kprobe_multi_link'))) {
    throw new UsageError('NOT_SUPPORTED', `${description}: this kernel has no kprobe.multi links`, {
      hint: 'they need Linux 5.18+ built with CONFIG_FPROBE; attach one kprobe per function instead (attachKprobe)',
    });
  }
  throw bpfError('BPF_LINK_CREATE', r.errno, description, r.errno === Errno.ESRCH || r.errno === Errno.ENOENT ? { hint: 'a function is not traceable (see /sys/kernel/tracing/available_filter_functions)' } : {});
}
