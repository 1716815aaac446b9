// Two network namespaces joined by a veth pair, for XDP and tc tests: each end has an address of a
// private /24, and UDP sockets made inside either namespace (socket() runs on this thread while it
// is in the namespace) send and receive synchronously with a receive timeout, so a test counts
// exactly which datagrams arrived. Everything goes with the Scope: sockets, then the namespaces
// (deleting a namespace deletes its veth end, and the pair with it).
import { inNetns } from '../../src/sys/netns.js';
import { bindSocket, encodeSockaddrIn, openSocket, recvInto, setSocketOption } from '../../src/sys/socket.js';
import type { Fd } from '../../src/sys/fd.js';
import { AddressFamily, SocketLevel, SocketOption, SocketType } from '../../src/uapi/attach.js';
import { sh } from './proc.js';
import type { Scope } from './scope.js';

export interface VethEnd { netns: string; ifname: string; ip: string }
export interface VethPair { a: VethEnd; b: VethEnd }

let counter = 0;

/** Namespaces A and B with veth ends `va`/`vb` (10.<n>.<m>.1 and .2/24), both up. */
export function vethPair(scope: Scope, tag: string): VethPair {
  const nsA = scope.netns(`${tag}a`);
  const nsB = scope.netns(`${tag}b`);
  const n = (process.pid % 200) + 20;
  const m = (++counter * 7) % 250;
  const a: VethEnd = { netns: nsA, ifname: 'va', ip: `10.${n}.${m}.1` };
  const b: VethEnd = { netns: nsB, ifname: 'vb', ip: `10.${n}.${m}.2` };
  sh('ip', ['-n', nsA, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', nsB]);
  for (const e of [a, b]) {
    sh('ip', ['-n', e.netns, 'addr', 'add', `${e.ip}/24`, 'dev', e.ifname]);
    sh('ip', ['-n', e.netns, 'link', 'set', e.ifname, 'up']);
  }
  return { a, b };
}

/** A UDP socket bound in namespace `netns` to ip:port, with a receive timeout. */
export function udpSocket(scope: Scope, netns: string, ip: string, port: number, recvTimeoutMs = 300): Fd {
  const fd = inNetns(netns, () => {
    const s = openSocket(AddressFamily.INET, SocketType.DGRAM | SocketType.CLOEXEC, 0, `udp socket in ${netns}`);
    try {
      bindSocket(s, encodeSockaddrIn(ip, port), `udp socket ${ip}:${port} in ${netns}`);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  });
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(recvTimeoutMs / 1000)), 0);
  tv.writeBigInt64LE(BigInt((recvTimeoutMs % 1000) * 1000), 8);
  setSocketOption(fd.value, SocketLevel.SOCKET, SocketOption.RCVTIMEO, tv, 'receive timeout');
  scope.defer(`close udp socket ${ip}:${port}`, () => fd.close());
  return fd;
}

let sendtoCall: ((fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, alen: number) => number | bigint) | undefined;
/** sendto(2) one datagram. */
export async function sendTo(fd: Fd, ip: string, port: number, payload: Buffer): Promise<void> {
  if (!sendtoCall) {
    const { nativeLibc } = await import('../../src/sys/libc.js');
    sendtoCall = nativeLibc().lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)');
  }
  const addr = encodeSockaddrIn(ip, port);
  if (Number(sendtoCall(fd.value, payload, payload.length, 0, addr, addr.length)) < 0) throw new Error(`sendto ${ip}:${port} failed`);
}

/** Every datagram that arrives until one receive times out (at most `max`). */
export function receiveAll(fd: Fd, max = 100): Buffer[] {
  const out: Buffer[] = [];
  const buf = Buffer.alloc(2048);
  while (out.length < max) {
    const n = recvInto(fd, buf);
    if (n === -4) continue;
    if (n < 0) break;
    out.push(Buffer.from(buf.subarray(0, n)));
  }
  return out;
}

/** Send `count` datagrams "<tag> i" from `from` to `to`:port and return what `to` received. */
export async function exchange(from: Fd, to: Fd, toIp: string, port: number, count: number, tag = 'dgram'): Promise<string[]> {
  for (let i = 0; i < count; i++) await sendTo(from, toIp, port, Buffer.from(`${tag} ${i}`));
  return receiveAll(to).map((b) => b.toString());
}

/**
 * The first datagram over a new pair waits for neighbour resolution, which on a loaded machine can
 * take longer than one receive timeout: send "warm" until one arrives (at most `tries`), so the
 * counted exchanges that follow are not racing ARP. Returns how many were sent.
 */
export async function warmUp(from: Fd, to: Fd, toIp: string, port: number, tries = 20): Promise<number> {
  for (let i = 1; i <= tries; i++) {
    await sendTo(from, toIp, port, Buffer.from(`warm ${i}`));
    if (receiveAll(to).length > 0) return i;
  }
  throw new Error(`no datagram reached ${toIp}:${port} after ${tries} tries: the veth pair does not pass traffic`);
}
