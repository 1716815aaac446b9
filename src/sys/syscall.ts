// The one chokepoint for bpf(): every command of this package goes through `bpfCall`. The backend is
// swappable so layers above can be unit-tested (and attrs inspected) without a kernel.
import { Cmd } from './constants.js';
import { Attr } from './attr.js';
import { bpfError, Errno } from './errno.js';
import { libc } from './libc.js';

export interface SyscallResult { ret: number; errno: number }
export type BpfBackend = (cmd: number, attr: Buffer) => SyscallResult;

const kernelBackend: BpfBackend = (cmd, attr) => {
  const c = libc();
  const ret = c.bpf(cmd, c.address(attr), attr.length);
  return { ret, errno: ret < 0 ? c.errno() : 0 };
};

let backend: BpfBackend = kernelBackend;

/** Replace the backend (tests). Returns a function that restores the previous one. */
export function setBpfBackend(next: BpfBackend): () => void {
  const prev = backend;
  backend = next;
  return () => { backend = prev; };
}

const CMD_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Cmd).map(([k, v]) => [v, `BPF_${k}`]));

export function cmdName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `bpf command ${cmd}`;
}

/** Observers of every bpf() call (the --explain narration). `full` is the Attr, for its pointer fields. */
export type CallObserver = (cmd: number, attr: Buffer, result: SyscallResult, what: string, full?: Attr) => void;
const observers = new Set<CallObserver>();
export function observeCalls(o: CallObserver): () => void {
  observers.add(o);
  return () => { observers.delete(o); };
}

/** Run a bpf() command without throwing: the raw result and errno (EINTR retried). */
export function bpfTry(cmd: number, attr: Attr, what: string): SyscallResult {
  let r: SyscallResult;
  let tries = 0;
  do {
    r = backend(cmd, attr.buf);
  } while (r.ret < 0 && r.errno === Errno.EINTR && ++tries < 5);
  for (const o of observers) o(cmd, attr.buf, r, what, attr);
  return r;
}

/**
 * Run a bpf() command; on failure throw a BpfError naming `what` ("map sock_hash", "program x").
 * Returns the syscall's non-negative result (an fd for commands that create objects).
 */
export function bpfCall(cmd: number, attr: Attr, what: string, hint?: string): number {
  const r = bpfTry(cmd, attr, what);
  if (r.ret < 0) throw bpfError(cmdName(cmd), r.errno, what, { hint });
  return r.ret;
}
