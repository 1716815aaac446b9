// The number of possible CPUs: per-CPU maps hold one value slot for each (not just online ones).
import { readFileSync } from 'node:fs';

let cached: number | undefined;

/** Parse a kernel CPU list such as "0-3,5,7-8" into a count. */
export function countCpuList(list: string): number {
  let n = 0;
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

export function possibleCpus(): number {
  cached ??= countCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cached;
}
