// bpf() on a worker thread: koffi's async calls run the function on its thread pool and call back on
// the event loop, so a BPF_PROG_LOAD the verifier spends a second on does not stall timers and
// sockets meanwhile. koffi cannot call variadic functions asynchronously, so syscall(2) is bound
// here with a fixed prototype (the integer arguments travel in the same registers either way on the
// ABIs we support). errno is the worker thread's, which koffi makes readable in the callback.
import { UsageError } from '../errors.js';
import { bpfSyscallNumber, nativeLibc } from './libc.js';

export interface AsyncBpfResult { ret: number; errno: number }

type AsyncSyscall = {
  async: (nr: number, cmd: number, attr: bigint, size: number, cb: (err: unknown, ret: number | bigint) => void) => void;
};

let bound: AsyncSyscall | undefined;

function syscall4(): AsyncSyscall {
  if (bound) return bound;
  const { lib } = nativeLibc();
  bound = lib.func('long syscall(long number, long cmd, uintptr_t attr, unsigned long size)') as unknown as AsyncSyscall;
  return bound;
}

/** syscall(SYS_bpf, cmd, attr, size) on a worker thread: resolves with the result and that thread's errno. */
export function bpfOnWorker(cmd: number, attrAddress: bigint, size: number): Promise<AsyncBpfResult> {
  const nr = bpfSyscallNumber();
  const fn = syscall4();
  const { koffi } = nativeLibc();
  return new Promise((resolve, reject) => {
    fn.async(nr, cmd, attrAddress, size, (err, ret) => {
      if (err) {
        reject(new UsageError('NOT_SUPPORTED', `cannot run bpf() on a worker thread: ${String(err)}`, { cause: err, hint: 'use the synchronous load() instead' }));
        return;
      }
      const r = Number(ret);
      resolve({ ret: r, errno: r < 0 ? koffi.errno() : 0 });
    });
  });
}
