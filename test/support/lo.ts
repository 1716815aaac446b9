// Bytes sent over the loopback device: the outside proof that payload bypassed (or went through) TCP/IP.
import { readFileSync } from 'node:fs';
import { netnsExec } from './netns.js';

/** tx_bytes of lo in our namespace, or inside `netns` (its own loopback). */
export function loTxBytes(netns?: string): number {
  const path = '/sys/class/net/lo/statistics/tx_bytes';
  const text = netns ? netnsExec(netns, 'cat', [path]) : readFileSync(path, 'utf8');
  const n = Number(text.trim());
  if (!Number.isFinite(n)) throw new Error(`bad tx_bytes ${JSON.stringify(text)}`);
  return n;
}

/** Measure the lo tx_bytes growth around `fn`. */
export async function loDelta<T>(fn: () => Promise<T>, netns?: string): Promise<{ result: T; lo: number }> {
  const before = loTxBytes(netns);
  const result = await fn();
  return { result, lo: loTxBytes(netns) - before };
}
