// Sockets through libc: the few calls that attaching needs and Node does not offer — setsockopt with
// an fd value (SO_ATTACH_BPF), socket addresses of an fd (to find a Node socket's fd), raw socket(),
// bind/listen/send/recv for netlink and for sockets made inside another network namespace, and
// if_nametoindex. Bound on first use through sys/libc.ts.
import { AddressFamily, SocketLevel, SocketOption } from '../uapi/attach.js';
import { UsageError } from '../errors.js';
import { bpfError, Errno } from './errno.js';
import { Fd } from './fd.js';
import { nativeLibc } from './libc.js';

interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  getsockname(fd: number, addr: Buffer, len: Buffer): number;
  getpeername(fd: number, addr: Buffer, len: Buffer): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  if_nametoindex(name: string): number;
  errno(): number;
}

let calls: SocketCalls | undefined;
function sock(): SocketCalls {
  if (calls) return calls;
  const { koffi, lib } = nativeLibc();
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const getsockname = lib.func('int getsockname(int fd, void *addr, void *len)');
  const getpeername = lib.func('int getpeername(int fd, void *addr, void *len)');
  const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
  const listen = lib.func('int listen(int fd, int backlog)');
  const send = lib.func('long send(int fd, const void *buf, size_t len, int flags)');
  const recv = lib.func('long recv(int fd, void *buf, size_t len, int flags)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  calls = {
    socket: (d, t, p) => socket(d, t, p),
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len),
    getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len),
    getsockname: (fd, a, l) => getsockname(fd, a, l),
    getpeername: (fd, a, l) => getpeername(fd, a, l),
    bind: (fd, a, l) => bind(fd, a, l),
    listen: (fd, b) => listen(fd, b),
    send: (fd, b, l, f) => Number(send(fd, b, l, f)),
    recv: (fd, b, l, f) => Number(recv(fd, b, l, f)),
    if_nametoindex: (n) => ifNameToIndex(n),
    errno: () => koffi.errno(),
  };
  return calls;
}

/** socket(2), owned. */
export function openSocket(domain: number, type: number, protocol: number, what: string): Fd {
  const fd = sock().socket(domain, type, protocol);
  if (fd < 0) throw bpfError('socket', sock().errno(), what);
  return new Fd(fd);
}

/** setsockopt(2) with a raw value; throws a BpfError naming `what`. */
export function setSocketOption(fd: number, level: number, name: number, value: Buffer, what: string, hint?: string): void {
  if (sock().setsockopt(fd, level, name, value, value.length) < 0) throw bpfError('setsockopt', sock().errno(), what, hint ? { hint } : {});
}

/** setsockopt(2) without throwing: 0 or the errno. */
export function trySetSocketOption(fd: number, level: number, name: number, value: Buffer): number {
  return sock().setsockopt(fd, level, name, value, value.length) < 0 ? sock().errno() : 0;
}

/** An int socket option (SO_TYPE, SO_DOMAIN), or undefined when `fd` is not a socket. */
export function socketIntOption(fd: number, level: number, name: number): number | undefined {
  const v = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4);
  return sock().getsockopt(fd, level, name, v, len) < 0 ? undefined : v.readInt32LE(0);
}

export interface SocketAddress { family: 'IPv4' | 'IPv6'; address: string; port: number }

/** The local ('local') or remote ('peer') address of an inet socket; undefined for none (unconnected, not inet). */
export function socketAddress(fd: number, which: 'local' | 'peer'): SocketAddress | undefined {
  const addr = Buffer.alloc(128);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(addr.length);
  const r = which === 'local' ? sock().getsockname(fd, addr, len) : sock().getpeername(fd, addr, len);
  if (r < 0) return undefined;
  return decodeSockaddr(addr.subarray(0, len.readUInt32LE(0)));
}

/** struct sockaddr_in / sockaddr_in6 (port in network byte order) → address; undefined for other families. */
export function decodeSockaddr(b: Buffer): SocketAddress | undefined {
  if (b.length < 2) return undefined;
  const family = b.readUInt16LE(0);
  if (family === AddressFamily.INET && b.length >= 8) {
    return { family: 'IPv4', address: [...b.subarray(4, 8)].join('.'), port: b.readUInt16BE(2) };
  }
  if (family === AddressFamily.INET6 && b.length >= 24) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(8 + i * 2).toString(16));
    return { family: 'IPv6', address: words.join(':'), port: b.readUInt16BE(2) };
  }
  return undefined;
}

/** struct sockaddr_in for an IPv4 address and port. */
export function encodeSockaddrIn(address: string, port: number): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new UsageError('BAD_ARGUMENT', `"${address}" is not an IPv4 address`);
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AddressFamily.INET, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(parts).copy(b, 4);
  return b;
}

/** bind(2) of an IPv4 socket (or of any socket, to a raw sockaddr). */
export function bindSocket(fd: Fd, addr: Buffer, what: string): void {
  if (sock().bind(fd.value, addr, addr.length) < 0) throw bpfError('bind', sock().errno(), what);
}

export function listenSocket(fd: Fd, backlog: number, what: string): void {
  if (sock().listen(fd.value, backlog) < 0) throw bpfError('listen', sock().errno(), what);
}

/** send(2) of a whole datagram. */
export function sendAll(fd: Fd, buf: Buffer, what: string): void {
  const n = sock().send(fd.value, buf, buf.length, 0);
  if (n < 0) throw bpfError('send', sock().errno(), what);
}

/** recv(2) into `buf`: the byte count, or -errno (EAGAIN on a receive timeout, EINTR). */
export function recvInto(fd: Fd, buf: Buffer): number {
  const n = sock().recv(fd.value, buf, buf.length, 0);
  return n < 0 ? -sock().errno() : n;
}

/** The index of network interface `name` in the calling thread's network namespace. */
export function interfaceIndex(name: string, where = 'this network namespace'): number {
  const i = sock().if_nametoindex(name);
  if (i > 0) return i;
  const errno = sock().errno();
  throw new UsageError('BAD_ARGUMENT', `no network interface "${name}" in ${where}${errno && errno !== Errno.ENODEV ? ` (${errno})` : ''}`, {
    hint: 'list them with `ip link`' + (where === 'this network namespace' ? '' : ` (ip -n NETNS link)`),
  });
}

/** SOL_SOCKET/SO_TYPE of `fd`: 1 stream, 2 datagram…; undefined when `fd` is not a socket. */
export function socketType(fd: number): number | undefined {
  return socketIntOption(fd, SocketLevel.SOCKET, SocketOption.TYPE);
}
