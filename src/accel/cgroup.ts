// The accelerator's cgroups: where it attaches (a cgroup v2 directory, or the root: the whole
// machine), and moving this process in and out of one (verify runs its own sockets there).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupV2Root, checkCgroupDir } from '../index.js';

/** The cgroup to attach to: `dir` checked (a UsageError names what is wrong), or the v2 root when none. */
export function resolveCgroup(dir?: string): string {
  return dir === undefined ? cgroupV2Root() : checkCgroupDir(dir);
}

/** The cgroup v2 directory this process is in, from /proc/self/cgroup ("0::/path"). */
export function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return join(cgroupV2Root(), line ? line.slice(3) : '/');
}

/** Move this whole process into `dir` (its sockets created afterwards belong to that cgroup). */
export function moveSelfTo(dir: string): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
}

/** Whether cgroup `inner` is `outer` or below it (paths as checkCgroupDir returns them). */
export function cgroupContains(outer: string, inner: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith('/') ? outer : outer + '/');
}
