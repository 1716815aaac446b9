// Helpers of the loader's kernel tests: fixtures, temporary pin dirs, open fd counts.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** dist/test/kernel/helpers.js → the repository root. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export function fixture(name: string): string {
  return join(REPO, 'bpf', 'fixtures', name);
}

/** A fresh, unique directory path under /sys/fs/bpf (not created: pinning creates it). */
export function tempPinDir(tag: string): string {
  return `/sys/fs/bpf/sockaccel-test-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Remove a pin directory and everything in it (unlinking a pin drops that reference). */
export function removePinDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Open file descriptors of this process, to prove nothing leaks. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The shipped accelerator object without its observer programs (some need BPF trampolines, which
 * this host refuses): for tests of the sock_ops/sk_msg mechanics alone. */
export async function shippedCore(): Promise<import('../../src/index.js').BpfObject> {
  const { BpfObject } = await import('../../src/index.js');
  const { shippedObject, ALL_OBSERVERS } = await import('../../src/accel/layout.js');
  const obj = BpfObject.open(shippedObject());
  for (const n of ALL_OBSERVERS) obj.programs.delete(n);
  return obj;
}
