// rtnetlink requests over a socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE): send one message, read the
// replies up to the kernel's ACK (or NLMSG_DONE of a dump). Messages are built and parsed by
// uapi/netlink.ts. The socket is blocking with a receive timeout, so a request never hangs; it asks
// for extended ACKs, so a refusal carries the kernel's own words ("Exclusivity flag on, cannot modify").
import { BpfError } from '../errors.js';
import { AddressFamily, SocketLevel, SocketOption, SocketType } from '../uapi/attach.js';
import { NETLINK_ROUTE, NetlinkOption, NlmFlag, NlmsgType, SOCKADDR_NL, parseError, parseMessages, type NlMessage } from '../uapi/netlink.js';
import { encodeInto } from '../uapi/layout.js';
import { errnoName, hintFor } from './errno.js';
import type { Fd } from './fd.js';
import { bindSocket, openSocket, recvInto, sendAll, setSocketOption, trySetSocketOption } from './socket.js';

const RECEIVE_TIMEOUT_S = 5;

/** A netlink request the kernel refused: errno plus its extended-ack message. */
export function netlinkError(op: string, errno: number, what: string, kernelSays?: string, hint?: string): BpfError {
  const code = errnoName(errno);
  return new BpfError(op, errno, code, `${op} failed for ${what}: ${code}${kernelSays ? ` (kernel: ${kernelSays})` : ''}`, { hint: hint ?? hintFor(op, errno) });
}

export class RtNetlink {
  readonly #fd: Fd;
  #seq = Math.floor(Date.now() / 1000) & 0xffffff;

  private constructor(fd: Fd) {
    this.#fd = fd;
  }

  /** A NETLINK_ROUTE socket in the calling thread's network namespace (open it inside inNetns for another). */
  static open(): RtNetlink {
    const fd = openSocket(AddressFamily.NETLINK, SocketType.RAW | SocketType.CLOEXEC, NETLINK_ROUTE, 'rtnetlink socket');
    try {
      const one = Buffer.alloc(4);
      one.writeUInt32LE(1);
      // Best effort: kernels before 4.12 have no extended ACKs, the requests work without them.
      trySetSocketOption(fd.value, SocketLevel.NETLINK, NetlinkOption.EXT_ACK, one);
      trySetSocketOption(fd.value, SocketLevel.NETLINK, NetlinkOption.CAP_ACK, one);
      const timeout = Buffer.alloc(16);
      timeout.writeBigInt64LE(BigInt(RECEIVE_TIMEOUT_S), 0);
      setSocketOption(fd.value, SocketLevel.SOCKET, SocketOption.RCVTIMEO, timeout, 'rtnetlink socket (receive timeout)');
      const addr = Buffer.alloc(SOCKADDR_NL.size);
      encodeInto(SOCKADDR_NL, { nl_family: AddressFamily.NETLINK }, addr, () => 0n);
      bindSocket(fd, addr, 'rtnetlink socket');
      return new RtNetlink(fd);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /**
   * Send a message made by `build(seq)` (flags must include NLM_F_REQUEST; NLM_F_ACK is added) and
   * return the replies that came before the ACK (echoes, dump parts). A refusal throws a BpfError with
   * `op` and `what`, or, when `refused` returns an error for the errno, that one.
   */
  request(build: (seq: number) => Buffer, op: string, what: string, refused?: (errno: number, kernelSays?: string) => Error | undefined): NlMessage[] {
    const seq = ++this.#seq;
    const msg = build(seq);
    // NLM_F_ACK (or a dump's NLMSG_DONE) tells us when the kernel is done answering.
    msg.writeUInt16LE(msg.readUInt16LE(6) | NlmFlag.ACK, 6);
    sendAll(this.#fd, msg, `rtnetlink ${op} for ${what}`);
    const replies: NlMessage[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = recvInto(this.#fd, buf);
      if (n === -4) continue; // EINTR
      if (n < 0) throw netlinkError(op, -n, what, undefined, -n === 11 ? `no answer from the kernel within ${RECEIVE_TIMEOUT_S}s` : undefined);
      for (const m of parseMessages(Buffer.from(buf.subarray(0, n)))) {
        if (m.seq !== seq) continue;
        if (m.type === NlmsgType.ERROR) {
          const { errno, message } = parseError(m);
          if (errno === 0) return replies;
          throw refused?.(errno, message) ?? netlinkError(op, errno, what, message);
        }
        if (m.type === NlmsgType.DONE) return replies;
        replies.push(m);
      }
    }
  }

  close(): void {
    this.#fd.close();
  }
}
