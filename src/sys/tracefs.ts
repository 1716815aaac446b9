// tracefs: where tracepoints are described (events/<category>/<name>/id, the id perf_event_open takes)
// and where bpf_printk output is read (trace_pipe). Mounted at /sys/kernel/tracing when no tracefs is
// mounted (once per process); refused politely when the kernel has no ftrace.
import { readFileSync, statSync } from 'node:fs';
import { BpfError, UsageError } from '../errors.js';
import { readMounts, type Mount } from './bpffs.js';
import { Errno, errnoName } from './errno.js';
import { libc } from './libc.js';

export const TRACEFS = '/sys/kernel/tracing';
export const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

/** False only when `path` surely does not exist (a directory we may not search counts as "maybe"). */
function mayExist(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}

/** The tracing directories the mounts offer, canonical first, then any tracefs, then the debugfs automount. */
export function tracingDirs(mounts: Mount[] = readMounts()): string[] {
  const tracefs = mounts.filter((m) => m.fstype === 'tracefs').map((m) => m.target);
  const dirs = [...tracefs.filter((t) => t === TRACEFS), ...tracefs.filter((t) => t !== TRACEFS)];
  if (mounts.some((m) => m.fstype === 'debugfs' && m.target === '/sys/kernel/debug')) dirs.push(DEBUGFS_TRACING);
  return dirs;
}

/** The first tracing directory holding `file` (e.g. "trace_pipe"), given the mounts. */
export function findInTracefs(file: string, mounts: Mount[] = readMounts(), exists: (p: string) => boolean = mayExist): string | undefined {
  for (const dir of tracingDirs(mounts)) if (exists(`${dir}/${file}`)) return `${dir}/${file}`;
  return undefined;
}

let mountedByUs = false;

/**
 * The path of `file` under tracefs, mounting tracefs at /sys/kernel/tracing first if none is mounted
 * (with `mount`; once per process). `why` says what it is for, in errors.
 */
export function tracefsPath(file: string, why: string, mount = true): string {
  const mounts = readMounts();
  const found = findInTracefs(file, mounts);
  if (found) return found;
  const tracefs = mounts.filter((m) => m.fstype === 'tracefs').map((m) => m.target);
  if (tracefs.length && process.getuid?.() !== 0) {
    // tracefs hides its files from users who may not read them.
    throw new UsageError('NEEDS_PRIVILEGES', `cannot read ${file} under ${tracefs[0]} (${why})`, { hint: 'run as root: tracefs is readable by root only' });
  }
  if (tracefs.length || mountedByUs) {
    throw new UsageError('NOT_SUPPORTED', `tracefs is mounted at ${tracefs.join(', ') || TRACEFS} but has no ${file} (${why})`, {
      hint: file === 'trace_pipe' ? 'this kernel was built without ftrace (CONFIG_FTRACE), so bpf_printk output cannot be read here' : 'check the name: ls /sys/kernel/tracing/events/',
    });
  }
  if (!mount) throw new UsageError('NOT_SUPPORTED', `no tracefs is mounted (${why})`, { hint: `mount it: mount -t tracefs tracefs ${TRACEFS}` });
  const c = libc();
  if (c.mount('tracefs', TRACEFS, 'tracefs', 0) < 0) {
    const errno = c.errno();
    throw new BpfError('mount', errno, errnoName(errno), `could not mount tracefs at ${TRACEFS} (${why}): ${errnoName(errno)}`, {
      hint: errno === Errno.EPERM ? 'run as root, or with CAP_SYS_ADMIN' : `mount it yourself: mount -t tracefs tracefs ${TRACEFS}`,
    });
  }
  mountedByUs = true;
  return tracefsPath(file, why, false);
}

/** The id of tracepoint category:name (events/category/name/id), for perf_event_open. */
export function tracepointId(category: string, name: string): number {
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(name)) {
    throw new UsageError('BAD_ARGUMENT', `"${category}/${name}" is not a tracepoint name`, { hint: 'give category and name as in /sys/kernel/tracing/events/CATEGORY/NAME, e.g. syscalls/sys_enter_openat' });
  }
  const path = tracefsPath(`events/${category}/${name}/id`, `the id of tracepoint ${category}:${name}`);
  return Number(readFileSync(path, 'utf8').trim());
}
