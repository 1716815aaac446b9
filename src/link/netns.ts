// Programs on a network namespace: sk_lookup (which socket a new connection or datagram goes to,
// 5.9+) and flow_dissector (5.8+ as links), each a NetnsLink made with BPF_LINK_CREATE on the
// namespace's fd. sk_lookup programs run in order of attachment; several may share a namespace.
import { UsageError } from '../errors.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { netnsName, openNetns, type NetnsRef } from '../sys/netns.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { describeAttachment, NetnsLink } from './link.js';
import type { AttachableProgram } from './types.js';

/** Attach an sk_lookup or flow_dissector program to network namespace `netns` (default: this process's). */
export function attachNetns(prog: AttachableProgram, netns?: NetnsRef): NetnsLink {
  const attachType = prog.type === ProgType.SK_LOOKUP ? AttachType.SK_LOOKUP : prog.type === ProgType.FLOW_DISSECTOR ? AttachType.FLOW_DISSECTOR : undefined;
  if (attachType === undefined) throw new UsageError('BAD_ARGUMENT', `${prog.what} does not attach to a network namespace (SEC("sk_lookup") or SEC("flow_dissector"))`);
  // The calling thread's namespace by default: inside inNetns() that is the one entered.
  const ns = openNetns(netns ?? '/proc/thread-self/ns/net');
  const description = describeAttachment(prog, netnsName(netns), attachType);
  try {
    const r = linkCreateTry({ prog_fd: prog.fd.value, target_fd: ns.value, attach_type: attachType }, description);
    if (r.fd) return new NetnsLink('netns', r.fd, attachType, description);
    throw bpfError('BPF_LINK_CREATE', r.errno, description, r.errno === Errno.EINVAL
      ? { hint: attachType === AttachType.SK_LOOKUP ? 'sk_lookup needs Linux 5.9+' : 'flow_dissector links need Linux 5.8+' }
      : r.errno === Errno.EEXIST ? { hint: 'a flow dissector is already attached to this namespace (one per namespace)' } : {});
  } finally {
    ns.close();
  }
}

/** attachNetns for sk_lookup programs. */
export function attachSkLookup(prog: AttachableProgram, netns?: NetnsRef): NetnsLink {
  if (prog.type !== ProgType.SK_LOOKUP) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not an sk_lookup program (SEC("sk_lookup"))`);
  return attachNetns(prog, netns);
}
