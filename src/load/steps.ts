// Steps: the loader's work written once, as a generator that yields each call that may block for
// long — BPF_PROG_LOAD (the verifier can take a second) and reading the kernel's BTF (5.5 MB) — so
// one code path serves load(), which answers each yield on the spot, and loadAsync(), which answers
// them off the event loop (bpf() on a worker thread; the BTF read asynchronously, indexed in slices).
import { kernelBtfAsync } from '../btf/lazy.js';
import type { Attr } from '../sys/attr.js';
import { progLoadAttr, type ProgLoadValues } from '../sys/commands.js';
import { Fd } from '../sys/fd.js';
import { bpfTry, bpfTryAsync, type SyscallResult } from '../sys/syscall.js';
import { Cmd } from '../uapi/enums.js';

/** What a step waits for: a bpf() command, or the kernel BTF at `path` being read and indexed. */
export type Blocking = { kind: 'bpf'; cmd: number; attr: Attr; what: string } | { kind: 'kernel-btf'; path: string };
export type Steps<T> = Generator<Blocking, T, unknown>;

/** One bpf() command as a step. */
export function* bpfStep(cmd: number, attr: Attr, what: string): Steps<SyscallResult> {
  return (yield { kind: 'bpf', cmd, attr, what }) as SyscallResult;
}

/** BPF_PROG_LOAD as a step, without throwing (progLoadTry's answer). */
export function* progLoadStep(v: ProgLoadValues, what: string): Steps<{ fd?: Fd; errno: number }> {
  const r = yield* bpfStep(Cmd.PROG_LOAD, progLoadAttr(v), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

/**
 * The kernel BTF at `path` will be wanted: loadAsync reads it now, off the event loop, into the
 * per-process cache the synchronous code then finds it in. load() does nothing here: it reads the
 * BTF where it is first used, as it always did.
 */
export function* kernelBtfStep(path: string): Steps<void> {
  yield { kind: 'kernel-btf', path };
}

/** How the last yield was answered: a value to resume with, or an error to throw into the steps. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function resume<T>(steps: Steps<T>, o: Outcome): IteratorResult<Blocking, T> {
  return o.ok ? steps.next(o.value) : steps.throw(o.error);
}

function answerSync(b: Blocking): unknown {
  return b.kind === 'bpf' ? bpfTry(b.cmd, b.attr, b.what) : undefined;
}

async function answerAsync(b: Blocking): Promise<unknown> {
  if (b.kind === 'bpf') return bpfTryAsync(b.cmd, b.attr, b.what);
  // A kernel without BTF: the code that needs it says so, with its own error, when it asks.
  await kernelBtfAsync(b.path).catch(() => undefined);
  return undefined;
}

/** Run steps synchronously: each bpf() call on this thread. */
export function runSync<T>(steps: Steps<T>): T {
  let o: Outcome = { ok: true, value: undefined };
  for (;;) {
    const r: IteratorResult<Blocking, T> = resume(steps, o);
    if (r.done) return r.value;
    try {
      o = { ok: true, value: answerSync(r.value) };
    } catch (error) {
      o = { ok: false, error };
    }
  }
}

/** Run steps with the event loop free while each blocking call runs. */
export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let o: Outcome = { ok: true, value: undefined };
  for (;;) {
    const r: IteratorResult<Blocking, T> = resume(steps, o);
    if (r.done) return r.value;
    o = await answerAsync(r.value).then((value): Outcome => ({ ok: true, value }), (error: unknown): Outcome => ({ ok: false, error }));
  }
}
