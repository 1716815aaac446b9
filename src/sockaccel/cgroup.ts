// cgroup v2: sock_ops programs attach to a cgroup v2 directory and see the sockets of every process
// in it and below it. The root of the v2 hierarchy covers the whole machine.
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readMounts } from '../sys/bpffs.js';

export class CgroupError extends Error {
  override name = 'CgroupError';
}

/** The cgroup v2 mount point (/sys/fs/cgroup on pure-v2 hosts, /sys/fs/cgroup/unified on hybrid ones). */
export function cgroupV2Root(): string {
  const mounts = readMounts();
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2) return v2.target;
  const v1 = mounts.some((m) => m.fstype === 'cgroup');
  throw new CgroupError(v1
    ? 'this machine has only cgroup v1 mounted; sock_ops programs need cgroup v2: mount it (mount -t cgroup2 none /sys/fs/cgroup/unified) or boot with systemd.unified_cgroup_hierarchy=1'
    : 'no cgroup v2 mount found in /proc/self/mounts: mount one (mount -t cgroup2 none /sys/fs/cgroup)');
}

/** Resolve and check a cgroup directory given by the user (or the v2 root when none). */
export function resolveCgroup(dir?: string): string {
  const root = cgroupV2Root();
  if (!dir) return root;
  let abs: string;
  try {
    abs = realpathSync(resolve(dir));
    if (!statSync(abs).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CgroupError(`cgroup ${dir} does not exist: create it with mkdir under ${root}`);
  }
  const rootReal = realpathSync(root);
  if (abs !== rootReal && !abs.startsWith(rootReal + '/')) {
    throw new CgroupError(`${dir} is not a cgroup v2 directory: it must be under the cgroup2 mount ${root}`);
  }
  return abs;
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
