// Who may load and attach BPF programs: root, or a process with CAP_BPF and CAP_NET_ADMIN (5.8+),
// or CAP_SYS_ADMIN. Checked up front so the user gets one clear line instead of an EPERM halfway.
import { readFileSync } from 'node:fs';
import { BpfError } from '../errors.js';

export const Cap = { NET_ADMIN: 12, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

/** The effective capability set of this process (CapEff in /proc/self/status). */
export function effectiveCaps(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt('0x' + line.slice(7).trim()) : 0n;
}

export function hasCap(caps: bigint, cap: number): boolean {
  return (caps >> BigInt(cap)) & 1n ? true : false;
}

/** True when this process may load and attach our programs. */
export function privileged(caps = effectiveCaps()): boolean {
  return hasCap(caps, Cap.SYS_ADMIN) || (hasCap(caps, Cap.BPF) && hasCap(caps, Cap.NET_ADMIN));
}

export const PRIVILEGE_HINT = 'run as root, or with CAP_BPF and CAP_NET_ADMIN';

export function requirePrivileges(verb: string): void {
  if (!privileged()) {
    throw new BpfError(verb, 1, 'EPERM', `${verb} needs privileges this process does not have`, { hint: PRIVILEGE_HINT });
  }
}
