// cgroup v2 directories, checked before anything is attached: a missing path, a file, or a directory
// of a cgroup v1 hierarchy each get a message that says what is wrong and what to do.
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isUnder, readMounts } from '../sys/bpffs.js';

/** The environment variable naming the cgroup v2 root to use instead of the first cgroup2 mount. */
export const CGROUP_ROOT_ENV = 'SOCKACCEL_CGROUP_ROOT';

let rootOverride: { dir: string; from: string } | undefined;

/**
 * Use `dir` as the cgroup v2 root (undefined: back to the mounts). Inside a container the first
 * cgroup2 mount is the container's own cgroup namespace; the node's tree is mounted elsewhere
 * (e.g. /host/sys/fs/cgroup) and named here or in $SOCKACCEL_CGROUP_ROOT. `from` names the setting
 * in errors (e.g. "--cgroup-root").
 */
export function setCgroupV2Root(dir: string | undefined, from = 'setCgroupV2Root()'): void {
  rootOverride = dir ? { dir, from } : undefined;
}

/** An override must be a cgroup2 mount point: anything else would attach to the wrong tree. */
function checkedOverride(dir: string, from: string): string {
  const abs = resolve(dir);
  if (readMounts().some((m) => m.fstype === 'cgroup2' && m.target === abs)) return abs;
  throw new UsageError('BAD_PATH', `the cgroup v2 root ${abs} (from ${from}) is not a cgroup2 mount point`, {
    hint: `mount the node's cgroup2 there (in Kubernetes: a hostPath volume of the node's /sys/fs/cgroup), or point ${from} at a cgroup2 mount`,
  });
}

/** The cgroup v2 root: an override (setCgroupV2Root, $SOCKACCEL_CGROUP_ROOT), else the cgroup2 mount
 * point (/sys/fs/cgroup on pure-v2 hosts, /sys/fs/cgroup/unified on hybrid ones). */
export function cgroupV2Root(): string {
  if (rootOverride) return checkedOverride(rootOverride.dir, rootOverride.from);
  const fromEnv = process.env[CGROUP_ROOT_ENV];
  if (fromEnv) return checkedOverride(fromEnv, `$${CGROUP_ROOT_ENV}`);
  const mounts = readMounts();
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2) return v2.target;
  const v1 = mounts.some((m) => m.fstype === 'cgroup');
  throw new UsageError('NOT_SUPPORTED', v1
    ? 'this machine has only cgroup v1 mounted; BPF cgroup programs need cgroup v2'
    : 'no cgroup v2 mount found in /proc/self/mounts', {
    hint: v1 ? 'mount it (mount -t cgroup2 none /sys/fs/cgroup/unified) or boot with systemd.unified_cgroup_hierarchy=1' : 'mount one: mount -t cgroup2 none /sys/fs/cgroup',
  });
}

/**
 * `dir` resolved to a real path, checked to be a directory of the cgroup v2 hierarchy. Throws a
 * UsageError (BAD_PATH) naming the problem: missing, not a directory, or outside the cgroup2 mount.
 */
export function checkCgroupDir(dir: string): string {
  const root = cgroupV2Root();
  let abs: string;
  try {
    abs = realpathSync(resolve(dir));
  } catch (e) {
    throw new UsageError('BAD_PATH', `cgroup ${dir} does not exist`, { hint: `create it with mkdir under ${root}`, cause: e });
  }
  if (!statSync(abs).isDirectory()) {
    throw new UsageError('BAD_PATH', `cgroup ${dir} is not a directory`, { hint: `give a directory under the cgroup2 mount ${root}` });
  }
  const rootReal = realpathSync(root);
  const inV2 = readMounts().filter((m) => isUnder(abs, m.target)).sort((a, b) => b.target.length - a.target.length)[0];
  if (!isUnder(abs, rootReal) || inV2?.fstype !== 'cgroup2') {
    throw new UsageError('BAD_PATH', `${dir} is not a cgroup v2 directory${inV2?.fstype === 'cgroup' ? ' (it belongs to a cgroup v1 hierarchy)' : ''}`, {
      hint: `give a directory under the cgroup2 mount ${root}`,
    });
  }
  return abs;
}
