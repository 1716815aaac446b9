// The only place that binds libc through koffi. Everything that reaches the kernel goes through the
// small set of functions declared here. koffi (a native addon) is loaded on the first call, not at
// import: parsing objects, --help and `import 'sockaccel-ffi'` never load it.
import { createRequire } from 'node:module';
import { arch } from 'node:process';
import type Koffi from 'koffi';
import { UsageError } from '../errors.js';

let koffiModule: typeof Koffi | undefined;
function koffi(): typeof Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return koffiModule;
}

let libcHandle: ReturnType<typeof Koffi.load> | undefined;
/** koffi and the loaded libc, for the other sys/ files that bind a few functions of their own
 * (mmap, epoll, sockets, netlink): one native load, still lazy. Only sys/ may call this. */
export function nativeLibc(): { koffi: typeof Koffi; lib: ReturnType<typeof Koffi.load> } {
  const k = koffi();
  libcHandle ??= k.load('libc.so.6');
  return { koffi: k, lib: libcHandle };
}

/** bpf(2) syscall numbers; libc has no wrapper for it, so we call syscall(2). */
const BPF_SYSCALL_NR: Record<string, number> = {
  x64: 321,
  arm64: 280,
  ia32: 357,
  arm: 386,
  riscv64: 280,
  loong64: 280,
  ppc64: 361,
  s390x: 351,
  mips64el: 5315,
};

/** The bpf() syscall number of this architecture (the async binding calls syscall(2) itself). */
export function bpfSyscallNumber(): number {
  const nr = BPF_SYSCALL_NR[arch];
  if (nr === undefined) throw new UsageError('NOT_SUPPORTED', `no bpf() syscall number is known for architecture ${arch}`, { hint: `supported: ${Object.keys(BPF_SYSCALL_NR).join(', ')}` });
  return nr;
}

/** perf_event_open(2) numbers (no libc wrapper either). */
const PERF_EVENT_OPEN_NR: Record<string, number> = { x64: 298, arm64: 241, ia32: 336, arm: 364, riscv64: 241, loong64: 241, ppc64: 319, s390x: 331 };

export interface Libc {
  /** syscall(SYS_bpf, cmd, attr, size) → result, or -1 with errno set. */
  bpf(cmd: number, attrAddress: bigint, size: number): number;
  close(fd: number): number;
  /** fcntl(fd, F_DUPFD_CLOEXEC, minFd). */
  dupAtLeast(fd: number, minFd: number): number;
  mount(source: string, target: string, fstype: string, flags: number): number;
  /** perf_event_open(attr, pid, cpu, group_fd, flags) → fd, or -1 with errno set. */
  perfEventOpen(attrAddress: bigint, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** ioctl(fd, request, arg) with an integer argument. */
  ioctl(fd: number, request: number, arg: number): number;
  /** The calling thread's errno after the last call. */
  errno(): number;
  /**
   * Run `fn` with every signal that can be blocked blocked in the calling thread, then restore the
   * mask. The verifier gives up with EAGAIN when the loading thread has a signal pending, and a
   * sampling profiler (node --cpu-prof, pprof-style agents) sends SIGPROF every millisecond: a
   * program that takes longer to verify would never load. A blocked signal stays pending and is
   * handled when the mask is restored.
   */
  withSignalsBlocked<T>(fn: () => T): T;
  /** Address of a Buffer's bytes, for pointers inside a bpf_attr. */
  address(buf: Buffer): bigint;
}

let bound: Libc | undefined;

export function libc(): Libc {
  if (bound) return bound;
  const nr = bpfSyscallNumber();
  const { koffi: k, lib } = nativeLibc();
  // syscall() is variadic in libc; koffi needs the variadic arguments typed at each call.
  const syscall = lib.func('long syscall(long number, ...)');
  const close = lib.func('int close(int fd)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const mount = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  const sigfillset = lib.func('int sigfillset(_Out_ uint8_t *set)');
  const pthreadSigmask = lib.func('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)');
  const perfNr = PERF_EVENT_OPEN_NR[arch];
  const F_DUPFD_CLOEXEC = 1030;
  // <signal.h>: SIG_BLOCK and SIG_SETMASK are 0 and 2, except on MIPS. glibc's sigset_t is 128 bytes.
  const [SIG_BLOCK, SIG_SETMASK] = arch.startsWith('mips') ? [1, 3] : [0, 2];
  const allSignals = Buffer.alloc(128);
  sigfillset(allSignals);
  bound = {
    bpf: (cmd, attrAddress, size) => Number(syscall(nr, 'int', cmd, 'void *', attrAddress, 'uint', size)),
    close: (fd) => close(fd),
    dupAtLeast: (fd, minFd) => fcntl(fd, F_DUPFD_CLOEXEC, 'int', minFd),
    mount: (source, target, fstype, flags) => mount(source, target, fstype, flags, null),
    perfEventOpen: (attrAddress, pid, cpu, groupFd, flags) => {
      if (perfNr === undefined) throw new UsageError('NOT_SUPPORTED', `no perf_event_open() syscall number is known for architecture ${arch}`);
      return Number(syscall(perfNr, 'void *', attrAddress, 'int', pid, 'int', cpu, 'int', groupFd, 'unsigned long', flags));
    },
    ioctl: (fd, request, arg) => ioctl(fd, request, 'unsigned long', arg),
    errno: () => k.errno(),
    address: (buf) => k.address(buf),
    withSignalsBlocked: (fn) => {
      const previous = Buffer.alloc(128);
      // glibc leaves its own internal signals out of the mask; SIGKILL and SIGSTOP cannot be blocked.
      if (pthreadSigmask(SIG_BLOCK, allSignals, previous) !== 0) return fn();
      try {
        return fn();
      } finally {
        pthreadSigmask(SIG_SETMASK, previous, null);
      }
    },
  };
  return bound;
}
