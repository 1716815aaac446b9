// The one chokepoint for bpf(): every command of this package goes through `bpfTry`. The backend is
// swappable (tests run the layers above without a kernel), and observers — the --explain narration —
// are bound to the operation that asked for them (AsyncLocalStorage), so two loads running at once in
// one process narrate only their own calls.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Cmd } from '../uapi/enums.js';
import type { Attr } from './attr.js';
import { bpfError, Errno } from './errno.js';
import { bpfOnWorker } from './async-bpf.js';
import { libc } from './libc.js';

export interface SyscallResult { ret: number; errno: number }
/** What runs a bpf() command: the kernel, or a fake in tests (it gets the Attr, so it can find pointed-to buffers). */
export type BpfBackend = (cmd: number, attr: Attr) => SyscallResult;

const kernelBackend: BpfBackend = (cmd, attr) => {
  const c = libc();
  const call = () => {
    const ret = c.bpf(cmd, c.address(attr.buf), attr.buf.length);
    return { ret, errno: ret < 0 ? c.errno() : 0 };
  };
  // The verifier stops with EAGAIN when a signal is pending for the loading thread (libc.ts says
  // why that is common): PROG_LOAD runs with signals blocked.
  return cmd === Cmd.PROG_LOAD ? c.withSignalsBlocked(call) : call();
};

let backend: BpfBackend = kernelBackend;

/** Replace the backend (tests). Returns a function that restores the previous one. */
export function setBpfBackend(next: BpfBackend): () => void {
  const prev = backend;
  backend = next;
  return () => { backend = prev; };
}

const CMD_NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(Cmd)) CMD_NAMES[v] ??= `BPF_${k}`;

export function cmdName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `bpf command ${cmd}`;
}

/** One bpf() call as it happened, for observers. */
export interface BpfCall {
  cmd: number;
  attr: Attr;
  result: SyscallResult;
  /** The object the call was about ("map sock_hash", "program x"). */
  what: string;
}
export type CallObserver = (call: BpfCall) => void;

interface ObserverContext { observers: readonly { key: unknown; observe: CallObserver }[] }

// Created on first use: an operation that never asks for narration pays nothing for it.
let context: AsyncLocalStorage<ObserverContext> | undefined;
function contextStore(): AsyncLocalStorage<ObserverContext> {
  context ??= new AsyncLocalStorage<ObserverContext>();
  return context;
}

/**
 * Run `work` (sync or async) with `observe` seeing every bpf() call it makes, and only those. `key`
 * identifies the observer: nested calls with the same key (up → load, both narrating to one `say`)
 * observe once.
 */
export function withCallObserver<T>(key: unknown, observe: CallObserver, work: () => T): T {
  const store = contextStore();
  const current = store.getStore()?.observers ?? [];
  if (current.some((o) => o.key === key)) return work();
  return store.run({ observers: [...current, { key, observe }] }, work);
}

/** Run `work` with no observer (the narrator's own calls, or reading back a status). */
export function unobserved<T>(work: () => T): T {
  if (!context?.getStore()) return work();
  return context.run({ observers: [] }, work);
}

/**
 * bpfTry on a worker thread (the kernel backend; a test backend runs as it is): the event loop runs
 * while the kernel works, e.g. while the verifier checks a program. Observers see the call as with
 * bpfTry, in the context of the operation that awaited it.
 */
export async function bpfTryAsync(cmd: number, attr: Attr, what: string): Promise<SyscallResult> {
  let r: SyscallResult;
  let tries = 0;
  do {
    r = backend === kernelBackend ? await bpfOnWorker(cmd, libc().address(attr.buf), attr.buf.length) : backend(cmd, attr);
  } while (r.ret < 0 && r.errno === Errno.EINTR && ++tries < 5);
  const observers = context?.getStore()?.observers;
  if (observers) for (const o of observers) o.observe({ cmd, attr, result: r, what });
  return r;
}

/** Run a bpf() command without throwing: the raw result and errno (EINTR retried). */
export function bpfTry(cmd: number, attr: Attr, what: string): SyscallResult {
  let r: SyscallResult;
  let tries = 0;
  do {
    r = backend(cmd, attr);
  } while (r.ret < 0 && r.errno === Errno.EINTR && ++tries < 5);
  const observers = context?.getStore()?.observers;
  if (observers) for (const o of observers) o.observe({ cmd, attr, result: r, what });
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
