// Small helpers around the library's counters for assertions.
import { stats, up } from '../../src/accel/index.js';
import type { Stats, UpOptions, UpResult } from '../../src/accel/index.js';

/** `up`, against the BPF object in $SAE2E_OBJECT and with the policy in $SAE2E_POLICY when set (to
 * run a suite against another build or policy "all", to check that its tests can fail). */
export function accelUp(opts: UpOptions): Promise<UpResult> {
  const objectPath = process.env.SAE2E_OBJECT;
  const policy = process.env.SAE2E_POLICY as UpOptions['policy'] | undefined;
  return up({ ...opts, ...(objectPath ? { objectPath } : {}), ...(policy ? { policy } : {}) });
}

export type StatsDelta = Stats;

/** after - before, field by field, also in nested groups (decisions). */
function diff(after: object, before: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    const b = (before as Record<string, unknown>)[k];
    out[k] = typeof v === 'number' ? v - ((b as number) ?? 0) : diff(v as object, (b ?? {}) as object);
  }
  return out;
}

/** Counters now. */
export function counters(pinDir: string): Stats {
  return stats({ pinDir });
}

/** Run `fn` and return how much each counter grew meanwhile. */
export async function statsDelta<T>(pinDir: string, fn: () => Promise<T>): Promise<{ result: T; delta: StatsDelta }> {
  const before = stats({ pinDir });
  const result = await fn();
  const after = stats({ pinDir });
  return { result, delta: diff(after, before) as StatsDelta };
}

export const MB = 1024 * 1024;
export const fmt = (n: number) => n.toLocaleString('en-US');

/** Print measurements when SAE2E_VERBOSE=1 (for reports; never needed for pass/fail). */
export function note(...parts: unknown[]): void {
  if (process.env.SAE2E_VERBOSE) process.stderr.write(`    [e2e] ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}\n`);
}
