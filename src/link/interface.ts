// The network interface an XDP or tc program attaches to: a name or an ifindex, in this network
// namespace or another one. The namespace is held by an fd for as long as the attachment lives, so
// later netlink calls (detach, update) reach the same namespace even if its name is removed.
import { UsageError } from '../errors.js';
import type { Fd } from '../sys/fd.js';
import { inNetns, netnsName, openNetns, type NetnsRef } from '../sys/netns.js';
import { interfaceIndex } from '../sys/socket.js';

export interface InterfaceOptions {
  /** The network namespace the interface is in (an `ip netns` name, an nsfs path, or a pid). Default: this process's. */
  netns?: NetnsRef;
}

export interface ResolvedInterface {
  ifindex: number;
  /** "veth0 (ifindex 7) in network namespace blue", for messages. */
  label: string;
  /** The namespace, held open (undefined for our own). */
  netns?: Fd;
}

export function resolveInterface(iface: string | number, opts: InterfaceOptions): ResolvedInterface {
  if (typeof iface === 'number' && (!Number.isInteger(iface) || iface <= 0)) throw new UsageError('BAD_ARGUMENT', `${iface} is not an interface index`, { hint: 'give a name ("eth0") or a positive ifindex' });
  const where = netnsName(opts.netns);
  const ifindex = typeof iface === 'number' ? iface : inNetns(opts.netns, () => interfaceIndex(iface, where));
  const label = `${typeof iface === 'number' ? `ifindex ${iface}` : `${iface} (ifindex ${ifindex})`}${opts.netns === undefined ? '' : ` in ${where}`}`;
  return { ifindex, label, netns: opts.netns === undefined ? undefined : openNetns(opts.netns) };
}

/** Run `work` in the namespace held by `netns` (or here). */
export function inHeldNetns<T>(netns: Fd | undefined, work: () => T): T {
  return netns ? inNetns(`/proc/self/fd/${netns.value}`, work) : work();
}
