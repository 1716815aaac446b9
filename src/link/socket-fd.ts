// The fd of a Node socket. Node has no public accessor for it (net.Socket's `_handle.fd` is an
// undocumented internal), so the socket is found among this process's fds by what the public API
// does tell: its type (stream/datagram) and its local and remote addresses, compared with
// getsockname/getpeername of every socket fd in /proc/self/fd. An fd number passes through.
import { readdirSync, readlinkSync } from 'node:fs';
import { Socket as DgramSocket } from 'node:dgram';
import { Server as NetServer, Socket as NetSocket } from 'node:net';
import { UsageError } from '../errors.js';
import { socketAddress, socketType, type SocketAddress } from '../sys/socket.js';
import { SocketType } from '../uapi/attach.js';

/** A socket: an fd number, { fd }, a connected net.Socket, a listening net.Server, or a bound dgram.Socket. */
export type SocketRef = number | { readonly fd: number } | NetSocket | NetServer | DgramSocket;

/** IPv4, IPv6 and IPv4-mapped IPv6 text → 16 bytes (IPv4 as ::ffff:a.b.c.d), for comparing addresses. */
export function addressBytes(address: string): Buffer | undefined {
  const v4 = (s: string) => {
    const p = s.split('.').map(Number);
    return p.length === 4 && p.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? p : undefined;
  };
  const four = v4(address);
  if (four) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...four]);
  const a = address.replace(/%.*$/, '');
  if (!a.includes(':')) return undefined;
  let tail: number[] = [];
  let text = a;
  const lastColon = a.lastIndexOf(':');
  const maybeV4 = v4(a.slice(lastColon + 1));
  if (maybeV4) { tail = maybeV4; text = a.slice(0, lastColon + 1) + '0:0'; }
  const [head, rest] = text.split('::');
  const hs = head ? head.split(':') : [];
  const rs = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const fill = rest !== undefined ? 8 - hs.length - rs.length : 0;
  const words = [...hs, ...Array(Math.max(fill, 0)).fill('0'), ...rs];
  if (words.length !== 8 || words.some((w) => !/^[0-9a-f]{1,4}$/i.test(w))) return undefined;
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

function same(a: SocketAddress | undefined, address: string | undefined, port: number | undefined): boolean {
  if (!a || address === undefined || port === undefined) return false;
  const x = addressBytes(a.address);
  const y = addressBytes(address);
  return a.port === port && !!x && !!y && x.equals(y);
}

interface Wanted { what: string; type: number; local: { address?: string; port?: number }; peer?: { address?: string; port?: number } }

function describeNodeSocket(s: Exclude<SocketRef, number | { fd: number }>): Wanted {
  if (s instanceof DgramSocket) {
    let local: { address: string; port: number };
    try {
      local = s.address();
    } catch (e) {
      throw new UsageError('BAD_ARGUMENT', 'the dgram socket is not bound yet, so it has no fd', { hint: "attach after bind() (in its 'listening' event)", cause: e });
    }
    let peer: { address: string; port: number } | undefined;
    try { peer = s.remoteAddress(); } catch { /* not connected */ }
    return { what: `dgram socket ${local.address}:${local.port}`, type: SocketType.DGRAM, local, peer };
  }
  if (s instanceof NetServer) {
    const a = s.address();
    if (!a || typeof a === 'string') throw new UsageError('BAD_ARGUMENT', typeof a === 'string' ? `server on ${a} is a Unix socket: pass its fd` : 'the server is not listening yet, so it has no fd', { hint: "attach in its 'listening' event" });
    return { what: `server ${a.address}:${a.port}`, type: SocketType.STREAM, local: a };
  }
  if (s.localPort === undefined) {
    throw new UsageError('BAD_ARGUMENT', 'the net.Socket is not connected (or not a TCP socket), so it has no address to be found by', { hint: "attach in its 'connect' event, or pass the fd of a socket you created" });
  }
  return {
    what: `TCP socket ${s.localAddress}:${s.localPort} → ${s.remoteAddress}:${s.remotePort}`, type: SocketType.STREAM,
    local: { address: s.localAddress, port: s.localPort }, peer: { address: s.remoteAddress, port: s.remotePort },
  };
}

/** The fd number of `socket` (see SocketRef); a UsageError when none or several fds match. */
export function socketFd(socket: SocketRef): number {
  if (typeof socket === 'number') return checkIsSocket(socket);
  if (!(socket instanceof NetSocket) && !(socket instanceof NetServer) && !(socket instanceof DgramSocket)) {
    if (typeof socket?.fd === 'number') return checkIsSocket(socket.fd);
    throw new UsageError('BAD_ARGUMENT', 'not a socket: give an fd number, a net.Socket, a net.Server or a dgram.Socket');
  }
  const want = describeNodeSocket(socket);
  const hits: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${name}`); } catch { continue; }
    if (!target.startsWith('socket:')) continue;
    if ((socketType(fd) ?? -1) !== want.type) continue;
    if (!same(socketAddress(fd, 'local'), want.local.address, want.local.port)) continue;
    const peer = socketAddress(fd, 'peer');
    if (want.peer ? !same(peer, want.peer.address, want.peer.port) : peer !== undefined) continue;
    hits.push(fd);
  }
  if (hits.length === 1) return hits[0]!;
  if (!hits.length) throw new UsageError('NOT_INSTALLED', `no fd of this process is the ${want.what}`, { hint: 'it may be closed already; or pass the fd' });
  throw new UsageError('CONFLICT', `${hits.length} fds of this process match the ${want.what} (fds ${hits.join(', ')}, e.g. SO_REUSEPORT)`, { hint: 'pass the fd of the one you mean' });
}

function checkIsSocket(fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) throw new UsageError('BAD_ARGUMENT', `${fd} is not a file descriptor`);
  if (socketType(fd) === undefined) throw new UsageError('BAD_ARGUMENT', `fd ${fd} is not a socket (or not open)`, { hint: 'give the fd of an open socket' });
  return fd;
}

/** The socket inode behind `fd` ("socket:[12345]"), to tell later whether the fd still is that socket. */
export function socketInode(fd: number): string | undefined {
  try {
    const t = readlinkSync(`/proc/self/fd/${fd}`);
    return t.startsWith('socket:') ? t : undefined;
  } catch {
    return undefined;
  }
}
