// Which CPUs exist and which are online, as lists of indices (a per-CPU ring is opened for each
// online CPU; a possible but offline one has no perf events).
import { readFileSync } from 'node:fs';

/** Parse a kernel CPU list such as "0-3,5,7-8" into its indices, ascending. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

/** /sys/devices/system/cpu/online, read each time (CPUs come and go). */
export function onlineCpuList(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}

/** /sys/devices/system/cpu/possible. */
export function possibleCpuList(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
}
