// cgroup v2 helpers: a private group per test (never the root), processes in it, and its removal.
import { RUN_ID } from './run-id.js';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killPid, sleep } from './proc.js';

/** The cgroup v2 mount point, from /proc/self/mounts (here /sys/fs/cgroup/unified). */
export function cgroupRoot(): string {
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, target, fstype] = line.split(' ');
    if (fstype === 'cgroup2' && target) return target;
  }
  throw new Error('no cgroup2 mount in /proc/self/mounts');
}

let counter = 0;
/** mkdir a fresh group directly under the v2 root, named after the test. */
export function createCgroup(tag: string): string {
  const dir = join(cgroupRoot(), `sae2e-${RUN_ID}-${++counter}-${tag.replace(/[^a-z0-9]/gi, '')}`);
  mkdirSync(dir);
  return dir;
}

export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Move a process into a group. */
export function moveTo(dir: string, pid: number): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

/** Remove a test group: kill the leftover processes in it (ours: only tests put processes there) by
 * pid, move them out to the root group, then rmdir (retried, bounded). */
export async function removeCgroup(dir: string, timeoutMs = 3000): Promise<void> {
  if (dir === cgroupRoot() || !dir.startsWith(cgroupRoot() + '/')) throw new Error(`refusing to remove ${dir}`);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; existsSync(dir); i++) {
    for (const pid of cgroupPids(dir)) {
      killPid(pid);
      try { moveTo(cgroupRoot(), pid); } catch { /* already gone */ }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if (Date.now() > deadline || i > 200) throw new Error(`could not remove cgroup ${dir}: ${(e as Error).message}`);
      await sleep(20);
    }
  }
}
