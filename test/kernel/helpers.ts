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
