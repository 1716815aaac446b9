// Filling the .kconfig map (libbpf's bpf_object__resolve_externs for kconfig externs):
//   LINUX_KERNEL_VERSION        KERNEL_VERSION(a, b, c) of the running kernel, as libbpf reads it:
//                               Ubuntu's /proc/version_signature, Debian's "Debian a.b.c" in uname -v,
//                               else uname -r
//   LINUX_HAS_BPF_COOKIE        the kernel has bpf_get_attach_cookie (probe)
//   LINUX_HAS_SYSCALL_WRAPPER   the kernel's syscalls are __<arch>_sys_* wrappers (probe: a kprobe)
//   other LINUX_*               refused unless __weak (then 0)
//   CONFIG_*                    the options given in LoadOptions.kconfig (libbpf's open option), then
//                               /boot/config-$(uname -r), else /proc/config.gz
// Values: y/n/m for bool (y=1, n=0; m refused), tristate (y=1, m=2, n=0) and char; "..." strings
// into char[N] (cut to N-1 bytes, with a warning); integers (decimal, 0x hex, 0 octal) range-checked
// against the extern's size and signedness. A missing strong extern is an error; a missing __weak
// one reads as 0.
import { existsSync, readFileSync } from 'node:fs';
import { release, version } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { ObjectError, UsageError } from '../errors.js';
import type { ExternSpec, ObjectSpec } from '../object/index.js';

/** KERNEL_VERSION(a, b, c), with c capped at 255 as the kernel's macro does. */
export function kernelVersionCode(a: number, b: number, c: number): number {
  return (a << 16) + (b << 8) + Math.min(c, 255);
}

/**
 * libbpf's get_kernel_version() from what it reads: Ubuntu's /proc/version_signature ("Ubuntu
 * 5.15.0-91.101-generic 5.15.131" → 5.15.131), Debian's uname -v ("#1 SMP Debian 6.1.123-1" →
 * 6.1.123), else uname -r ("6.18.44-fc" → 6.18.44). 0 when none parses.
 */
export function kernelVersionFrom(uts: { release: string; version: string; signature?: string }): number {
  const sig = uts.signature ? /^\S+\s+\S+\s+(\d+)\.(\d+)\.(\d+)/.exec(uts.signature) : null;
  if (sig) return kernelVersionCode(Number(sig[1]), Number(sig[2]), Number(sig[3]));
  const deb = /Debian (\d+)\.(\d+)\.(\d+)/.exec(uts.version);
  if (deb) return kernelVersionCode(Number(deb[1]), Number(deb[2]), Number(deb[3]));
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(uts.release);
  return m ? kernelVersionCode(Number(m[1]), Number(m[2]), Number(m[3])) : 0;
}

/** The running kernel's version, as libbpf's LINUX_KERNEL_VERSION and kern_version. */
export function runningKernelVersion(): number {
  let signature: string | undefined;
  try {
    signature = readFileSync('/proc/version_signature', 'utf8');
  } catch { /* not Ubuntu */ }
  return kernelVersionFrom({ release: release(), version: version(), signature });
}

/** The running kernel's Kconfig text and where it came from, or undefined when there is none. */
export function readKernelConfig(): { text: string; source: string } | undefined {
  const boot = `/boot/config-${release()}`;
  for (const path of [boot, '/proc/config.gz']) {
    if (!existsSync(path)) continue;
    try {
      const raw = readFileSync(path);
      // gzopen() reads plain files too: so do we.
      const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      return { text, source: path };
    } catch { /* unreadable: try the next */ }
  }
  return undefined;
}

export interface KconfigProbes {
  bpfCookie(): boolean;
  syscallWrapper(): boolean;
}

export interface KconfigContext {
  /** Extra "CONFIG_X=value" lines, which win over the kernel's (libbpf's `kconfig` open option). */
  extra?: string;
  probes: KconfigProbes;
  warn: (message: string) => void;
  /** For tests: the kernel's config text instead of /boot or /proc. */
  kernelConfig?: () => { text: string; source: string } | undefined;
  kernelVersion?: () => number;
}

/** Fill `contents` (the .kconfig map's value) for the object's kconfig externs; throws for a missing strong one. */
export function fillKconfig(spec: ObjectSpec, contents: Buffer, ctx: KconfigContext): void {
  const externs = [...spec.externs.values()].filter((e) => e.kind === 'kconfig');
  if (externs.length === 0) return;
  const set = new Set<string>();
  const fail = (e: ExternSpec, message: string): never => {
    throw new ObjectError(spec.file, `kconfig extern ${e.name}: ${message}`, { section: '.kconfig' });
  };
  const putNumber = (e: ExternSpec, value: bigint) => {
    const k = e.kconfig!;
    if (k.type !== 'int' && k.type !== 'char' && k.type !== 'bool') fail(e, `the value ${value} is a number, but the extern is a ${k.type}`);
    if (k.type === 'bool' && value > 1n) fail(e, `the value ${value} is not a boolean (0 or 1)`);
    const bits = BigInt(k.size * 8);
    if (k.size < 8) {
      const ok = k.signed ? BigInt.asUintN(64, value + (1n << (bits - 1n))) < (1n << bits) : (BigInt.asUintN(64, value) >> bits) === 0n;
      if (!ok) fail(e, `the value ${value} does not fit in ${k.size} bytes`);
    }
    const v = BigInt.asUintN(64, value);
    for (let i = 0; i < k.size; i++) contents[k.offset + i] = Number((v >> BigInt(8 * i)) & 0xffn);
    set.add(e.name);
  };

  for (const e of externs) {
    if (e.name.startsWith('CONFIG_')) continue;
    if (e.name === 'LINUX_KERNEL_VERSION') {
      const v = (ctx.kernelVersion ?? runningKernelVersion)();
      if (!v) fail(e, `the kernel version cannot be read from uname -r ("${release()}")`);
      putNumber(e, BigInt(v));
    } else if (e.name === 'LINUX_HAS_BPF_COOKIE') {
      putNumber(e, ctx.probes.bpfCookie() ? 1n : 0n);
    } else if (e.name === 'LINUX_HAS_SYSCALL_WRAPPER') {
      putNumber(e, ctx.probes.syscallWrapper() ? 1n : 0n);
    } else if (!e.name.startsWith('LINUX_') || !e.weak) {
      fail(e, 'is neither a CONFIG_ option nor one of the LINUX_ values a loader provides (LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER); declare it __weak to read 0');
    }
  }

  const wanted = externs.filter((e) => e.name.startsWith('CONFIG_'));
  if (wanted.length > 0) {
    const apply = (text: string, source: string) => {
      for (const raw of text.split('\n')) {
        const line = raw.replace(/\r$/, '');
        if (!line.startsWith('CONFIG_')) continue;
        const eq = line.indexOf('=');
        if (eq < 0) throw new UsageError('BAD_ARGUMENT', `${source}: cannot parse "${line}": no '=' separator`);
        const name = line.slice(0, eq);
        const value = line.slice(eq + 1);
        if (!value) throw new UsageError('BAD_ARGUMENT', `${source}: cannot parse "${line}": no value`);
        const e = spec.externs.get(name);
        if (!e || e.kind !== 'kconfig' || set.has(name)) continue;
        setFromKconfig(e, value, contents, putNumber, fail, (m) => ctx.warn(`${spec.file}: ${m}`));
        set.add(name);
      }
    };
    if (ctx.extra) apply(ctx.extra, 'LoadOptions.kconfig');
    if (wanted.some((e) => !set.has(e.name))) {
      const config = (ctx.kernelConfig ?? readKernelConfig)();
      if (!config) {
        // libbpf refuses here even when the externs are __weak ("failed to open system Kconfig").
        const unset = wanted.filter((e) => !set.has(e.name));
        throw new UsageError('NOT_SUPPORTED', `${spec.file}: kconfig externs ${unset.map((e) => e.name).join(', ')} need the kernel's configuration, but neither /boot/config-${release()} nor /proc/config.gz exists (libbpf: "failed to open system Kconfig")`, {
          hint: 'install the kernel\'s config file, build the kernel with CONFIG_IKCONFIG_PROC, or pass the values with load({ kconfig: "CONFIG_X=y\\n" })',
        });
      } else {
        apply(config.text, config.source);
      }
    }
  }

  const missing = externs.filter((e) => !set.has(e.name) && !e.weak);
  if (missing.length) {
    const e = missing[0]!;
    throw new ObjectError(spec.file, `kconfig extern ${e.name} (strong) is not set by this kernel's configuration${missing.length > 1 ? ` (nor ${missing.slice(1).map((x) => x.name).join(', ')})` : ''} (libbpf: "extern '${e.name}' (strong): not resolved")`, { section: '.kconfig' });
  }
}

function setFromKconfig(
  e: ExternSpec, value: string, contents: Buffer,
  putNumber: (e: ExternSpec, v: bigint) => void, fail: (e: ExternSpec, m: string) => never, warn: (m: string) => void,
): void {
  const k = e.kconfig!;
  const c = value[0];
  if (c === 'y' || c === 'n' || c === 'm') {
    switch (k.type) {
      case 'bool':
        if (c === 'm') fail(e, `the value 'm' (module) needs a tristate or char extern, not bool`);
        contents[k.offset] = c === 'y' ? 1 : 0;
        return;
      case 'tristate': {
        const v = c === 'y' ? 1 : c === 'm' ? 2 : 0;
        for (let i = 0; i < k.size; i++) contents[k.offset + i] = i === 0 ? v : 0;
        return;
      }
      case 'char':
        contents[k.offset] = c.charCodeAt(0);
        return;
      default:
        return fail(e, `the value '${c}' needs a bool, tristate or char extern, not ${k.type}`);
    }
  }
  if (c === '"') {
    if (k.type !== 'chars') fail(e, `the value ${value} is a string, which needs a char array extern`);
    if (value.length < 2 || !value.endsWith('"')) fail(e, `the value ${value} is not a valid string`);
    let bytes = Buffer.from(value.slice(1, -1), 'utf8');
    if (bytes.length >= k.size) {
      warn(`kconfig extern ${e.name}: the string ${value} (${bytes.length} bytes) is cut to ${k.size - 1} bytes`);
      bytes = bytes.subarray(0, k.size - 1);
    }
    contents.fill(0, k.offset, k.offset + k.size);
    bytes.copy(contents, k.offset);
    return;
  }
  const n = parseCInteger(value);
  if (n === undefined) fail(e, `the value "${value}" is not a valid integer`);
  if (k.type !== 'int' && k.type !== 'char') fail(e, `the value ${value} is an integer, which needs an integer extern, not ${k.type}`);
  putNumber(e, n!);
}

/** strtoull(value, &end, 0) with the whole string consumed. */
export function parseCInteger(value: string): bigint | undefined {
  const neg = value.startsWith('-');
  const body = neg ? value.slice(1) : value;
  let n: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) n = BigInt(body);
  else if (/^0[0-7]*$/.test(body)) n = body.length > 1 ? BigInt(`0o${body.slice(1)}`) : 0n;
  else if (/^[1-9][0-9]*$/.test(body)) n = BigInt(body);
  else return undefined;
  if (n > 0xffffffffffffffffn) return undefined;
  return neg ? BigInt.asUintN(64, -n) : n;
}
