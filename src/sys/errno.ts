// errno numbers → names and the hint a user needs to fix the failure. The message says which object
// failed; the hint says what to do.
import { BpfError } from '../errors.js';
import { PRIVILEGE_HINT, privileged } from './caps.js';

const NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 7: 'E2BIG', 9: 'EBADF', 11: 'EAGAIN',
  12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV', 19: 'ENODEV',
  20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 24: 'EMFILE', 28: 'ENOSPC', 30: 'EROFS', 34: 'ERANGE',
  36: 'ENAMETOOLONG', 38: 'ENOSYS', 40: 'ELOOP', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP', 125: 'ECANCELED',
  62: 'ETIME', 75: 'EOVERFLOW', 39: 'ENOTEMPTY', 116: 'ESTALE',
};

export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14,
  EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EINVAL: 22, ENOSPC: 28, ERANGE: 34, ENOSYS: 38,
  EOPNOTSUPP: 95, ESTALE: 116, ENOTSUPP: 524,
} as const;

export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

/** What to do about `errno` from command `op`, when there is something general to say. */
export function hintFor(op: string, errno: number): string | undefined {
  switch (errno) {
    case Errno.EPERM:
      if (op === 'BPF_OBJ_PIN' || op === 'BPF_OBJ_GET') return 'the path must be on a bpffs mount (e.g. /sys/fs/bpf) with no dot in any name below the mount, and this needs root or CAP_BPF';
      if (op === 'mount') return 'mounting bpffs needs root or CAP_SYS_ADMIN';
      // Privileged already: the permission is not what is missing.
      if (privileged()) {
        if (op === 'BPF_PROG_LOAD') return 'this process has the privileges, so the kernel refused the program kind itself: kernel lockdown (see dmesg), a disabled program type, or (on kernels before 5.11) RLIMIT_MEMLOCK';
        return 'this process has the privileges, so the kernel refused the operation itself (lockdown, an LSM policy, or a feature this kernel disables)';
      }
      return PRIVILEGE_HINT;
    case Errno.ENOSYS:
      return 'this kernel has no bpf() syscall (CONFIG_BPF_SYSCALL) or does not know this command';
    case Errno.E2BIG:
      if (op === 'BPF_MAP_CREATE') return 'max_entries, the key or the value is larger than this kernel allows for this map type (or the kernel does not know a field we set)';
      return 'the kernel does not know a field we set: it is older than the feature used';
    case Errno.ENOENT:
      if (op === 'BPF_OBJ_GET') return 'nothing is pinned at that path';
      return undefined;
    case Errno.EEXIST:
      if (op === 'BPF_OBJ_PIN') return 'something is already pinned at that path: remove it or pin elsewhere';
      return undefined;
    case Errno.ENOMEM:
      return 'the kernel is out of memory for BPF objects; on kernels before 5.11 raise RLIMIT_MEMLOCK (ulimit -l)';
    case Errno.EBADF:
      return 'a file descriptor passed to the kernel was closed or of the wrong kind';
    case Errno.EOPNOTSUPP:
    case Errno.ENOTSUPP:
      return 'this kernel does not support the operation for this object type';
    default:
      return undefined;
  }
}

/** Build the BpfError for a failed command on the named object ("map sock_hash", "program x"). */
export function bpfError(op: string, errno: number, what: string, extra: { hint?: string; log?: string } = {}): BpfError {
  const code = errnoName(errno);
  const hint = extra.hint ?? hintFor(op, errno);
  return new BpfError(op, errno, code, `${op} failed for ${what}: ${code}`, { hint, log: extra.log });
}
