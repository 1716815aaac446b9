// Who may use bpf(): root, or a process with CAP_BPF (+ CAP_NET_ADMIN for networking programs,
// CAP_PERFMON for tracing), or CAP_SYS_ADMIN. Read from /proc/self/status when asked, never at import.
import { readFileSync } from 'node:fs';

export const Cap = { NET_ADMIN: 12, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

/** The effective capability set of this process (CapEff in /proc/self/status); 0 when unreadable. */
export function effectiveCaps(): bigint {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    return line ? BigInt('0x' + line.slice(7).trim()) : 0n;
  } catch {
    return 0n;
  }
}

export function hasCap(caps: bigint, cap: number): boolean {
  return ((caps >> BigInt(cap)) & 1n) === 1n;
}

/** True when this process may load and attach networking programs; with `tracing`, also programs
 * that read kernel memory or format strings (bpf_probe_read_kernel, bpf_snprintf: CAP_PERFMON). */
export function privileged(caps = effectiveCaps(), opts: { tracing?: boolean } = {}): boolean {
  if (hasCap(caps, Cap.SYS_ADMIN)) return true;
  return hasCap(caps, Cap.BPF) && hasCap(caps, Cap.NET_ADMIN) && (!opts.tracing || hasCap(caps, Cap.PERFMON));
}

export const PRIVILEGE_HINT = 'run as root, or with CAP_BPF and CAP_NET_ADMIN (CAP_PERFMON too for tracing programs)';
