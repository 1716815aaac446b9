// Network namespaces: open one by name (`ip netns` names under /run/netns), path (/proc/PID/ns/net)
// or pid, and run synchronous work inside it. setns(2) moves only the calling thread — Node's main
// thread, where every syscall of this package runs — so the work must not await: interfaces are
// looked up, links created and netlink sockets opened while inside, and the thread comes straight back.
import { openSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { CLONE_NEWNET } from '../uapi/attach.js';
import { bpfError } from './errno.js';
import { Fd } from './fd.js';
import { nativeLibc } from './libc.js';

/** A network namespace: an `ip netns` name, a path to an nsfs file, or a process id. */
export type NetnsRef = string | number;

let setnsCall: ((fd: number, type: number) => number) | undefined;
function setns(fd: number): void {
  const { koffi, lib } = nativeLibc();
  setnsCall ??= lib.func('int setns(int fd, int nstype)');
  if (setnsCall(fd, CLONE_NEWNET) < 0) throw bpfError('setns', koffi.errno(), `network namespace fd ${fd}`);
}

/** The nsfs path of a namespace reference. */
export function netnsPath(ns: NetnsRef): string {
  if (typeof ns === 'number') return `/proc/${ns}/ns/net`;
  if (ns.includes('/')) return ns;
  if (!/^[\w.-]+$/.test(ns)) throw new UsageError('BAD_ARGUMENT', `"${ns}" is not a network namespace name`, { hint: 'give a name from `ip netns list`, a path such as /proc/PID/ns/net, or a pid' });
  return `/run/netns/${ns}`;
}

/** An fd of the namespace (for BPF_LINK_CREATE on a netns, or setns). */
export function openNetns(ns: NetnsRef): Fd {
  const path = netnsPath(ns);
  try {
    return new Fd(openSync(path, 'r'));
  } catch (e) {
    throw new UsageError('BAD_PATH', `network namespace ${ns} (${path}) cannot be opened: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      hint: typeof ns === 'string' && !ns.includes('/') ? 'create it with `ip netns add NAME`, or list them with `ip netns list`' : 'check that the process or nsfs file exists',
      cause: e,
    });
  }
}

/** A readable name of a namespace reference, for messages. */
export function netnsName(ns: NetnsRef | undefined): string {
  return ns === undefined ? 'this network namespace' : typeof ns === 'number' ? `the network namespace of pid ${ns}` : `network namespace ${ns}`;
}

/**
 * Run `work` with the calling thread inside network namespace `ns` (undefined: where it is), then
 * return to the original namespace, also when `work` throws. `work` must be synchronous.
 */
export function inNetns<T>(ns: NetnsRef | undefined, work: () => T): T {
  if (ns === undefined) return work();
  const target = openNetns(ns);
  let home: Fd | undefined;
  try {
    home = new Fd(openSync('/proc/thread-self/ns/net', 'r'));
    setns(target.value);
    let result: T;
    try {
      result = work();
    } finally {
      setns(home.value);
    }
    if (result && typeof (result as { then?: unknown }).then === 'function') {
      throw new UsageError('BAD_ARGUMENT', 'inNetns() ran an async function: only its first synchronous part ran inside the namespace', { hint: 'pass synchronous work (create the sockets or links inside, use them outside)' });
    }
    return result;
  } finally {
    home?.close();
    target.close();
  }
}
