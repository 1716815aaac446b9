// Where pins may live. Pins only work on a bpffs mount; we mount one at /sys/fs/bpf when nothing is
// mounted there (once — a second mount would hide the first one's pins), and refuse other paths.
import { mkdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, resolve, sep } from 'node:path';
import { BpfError, UsageError } from '../errors.js';
import { errnoName, hintFor } from './errno.js';
import { libc } from './libc.js';

export const DEFAULT_BPFFS = '/sys/fs/bpf';

export interface Mount { source: string; target: string; fstype: string }

/** The mounts of this process, from /proc/self/mounts (octal escapes such as \040 decoded). */
export function readMounts(): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(Boolean).map((line) => {
    const [source = '', target = '', fstype = ''] = line.split(' ');
    return { source: unescape(source), target: unescape(target), fstype };
  });
}

export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The bpffs mount point that holds `path`, or undefined. The deepest mount wins. */
export function bpffsFor(path: string, mounts = readMounts()): string | undefined {
  const abs = resolve(path);
  let best: Mount | undefined;
  for (const m of mounts) {
    if (!isUnder(abs, m.target)) continue;
    if (!best || m.target.length >= best.target.length) best = m;
  }
  return best?.fstype === 'bpf' ? best.target : undefined;
}

/** Mount bpffs at /sys/fs/bpf unless one is already mounted there. Returns true if we mounted it. */
export function mountDefaultBpffs(): boolean {
  if (readMounts().some((m) => m.target === DEFAULT_BPFFS && m.fstype === 'bpf')) return false;
  const c = libc();
  if (c.mount('bpf', DEFAULT_BPFFS, 'bpf', 0) < 0) {
    const errno = c.errno();
    throw new BpfError('mount', errno, errnoName(errno), `could not mount bpffs at ${DEFAULT_BPFFS}: ${errnoName(errno)}`, {
      hint: hintFor('mount', errno) ?? `mount it yourself: mount -t bpf bpf ${DEFAULT_BPFFS}`,
    });
  }
  return true;
}

const BPF_FS_MAGIC = 0xcafe4a11;

/** Whether `dir` exists and is on a bpffs mount. */
function onBpffs(dir: string): boolean {
  try {
    return statfsSync(dir).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** bpffs refuses (EPERM) any name with a dot in it, files and directories alike (bpf_lookup). */
function refuseDot(abs: string, below: string, what: string): void {
  const dotted = below.split('/').find((part) => part.includes('.'));
  if (dotted) {
    throw new UsageError('BAD_PATH', `cannot pin ${what} at ${abs}: bpffs refuses names with a dot ("${dotted}")`, {
      hint: `use another name, e.g. ${dotted.replace(/\./g, '_')}`,
    });
  }
}

/**
 * Make sure `path` can hold a pin: it must be on bpffs (we mount /sys/fs/bpf if that is where it
 * points and nothing is mounted yet). The missing parent directories are created. Returns the
 * absolute path and the first directory this call created (undefined when they all existed).
 */
export function preparePinPath(path: string, what: string): { path: string; createdDir?: string } {
  const abs = resolve(path);
  // The common case, every pin of an install after its first: the directory exists on bpffs. One
  // statfs(2) then answers what a read of the mount table would (`up` pins 30 objects).
  if (onBpffs(dirname(abs))) {
    refuseDot(abs, basename(abs), what);
    return { path: abs };
  }
  let mount = bpffsFor(abs); // one read of the mount table (two when we had to mount it)
  if (!mount) {
    if (isUnder(abs, DEFAULT_BPFFS)) mountDefaultBpffs();
    mount = bpffsFor(abs);
    if (!mount) {
      throw new UsageError('BAD_PATH', `cannot pin ${what} at ${abs}: the path is not on a bpffs mount`, {
        hint: `pin under ${DEFAULT_BPFFS} (or another mount of type bpf)`,
      });
    }
  }
  refuseDot(abs, abs.slice(mount.length), what);
  let createdDir: string | undefined;
  try {
    createdDir = mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new UsageError('BAD_PATH', `cannot create the directory for ${what} at ${dirname(abs)}: ${(e as Error).message}`, { cause: e });
  }
  return { path: abs, createdDir };
}

/** True if `path` exists (pins are files on bpffs). */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
