// Which CPUs exist and which are online. Per-CPU maps hold one value slot for each possible CPU
// (not just online ones); a per-CPU ring is opened for each online CPU (an offline one has no perf
// events).
import { readFileSync } from 'node:fs';

let cached: number | undefined;

/** Parse a kernel CPU list such as "0-3,5,7-8" into its indices, ascending. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

/** Parse a kernel CPU list into a count. */
export function countCpuList(list: string): number {
  return parseCpuList(list).length;
}

/** The number of possible CPUs (/sys/devices/system/cpu/possible), read once. */
export function possibleCpus(): number {
  cached ??= countCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cached;
}

/** /sys/devices/system/cpu/online, read each time (CPUs come and go). */
export function onlineCpuList(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}
