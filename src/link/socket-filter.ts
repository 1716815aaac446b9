// Socket filters: a SOCKET_FILTER program on one socket (setsockopt SO_ATTACH_BPF), run on every
// packet the socket receives: it returns how many bytes to keep (0 drops the packet). The filter
// belongs to the socket — it goes when the socket closes; close() here takes it off sooner
// (SO_DETACH_BPF), and only if the fd is still the same socket.
import { UsageError } from '../errors.js';
import { bpfError, Errno } from '../sys/errno.js';
import { setSocketOption, trySetSocketOption } from '../sys/socket.js';
import { SocketLevel, SocketOption } from '../uapi/attach.js';
import { ProgType } from '../uapi/enums.js';
import { socketFd, socketInode, type SocketRef } from './socket-fd.js';
import type { AttachableProgram } from './types.js';

function fdValue(prog: AttachableProgram): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(prog.fd.value);
  return b;
}

function checkFilterProgram(prog: AttachableProgram): void {
  if (prog.type !== ProgType.SOCKET_FILTER) throw new UsageError('BAD_ARGUMENT', `${prog.what} is not a socket filter program (SEC("socket"))`);
}

/** Attach a socket filter to `socket` (an fd, a net.Socket, a net.Server or a dgram.Socket; see socketFd). */
export function attachSocketFilter(prog: AttachableProgram, socket: SocketRef): SocketFilterAttachment {
  checkFilterProgram(prog);
  const fd = socketFd(socket);
  const description = `${prog.what} to socket fd ${fd}`;
  setSocketOption(fd, SocketLevel.SOCKET, SocketOption.ATTACH_BPF, fdValue(prog), description);
  return new SocketFilterAttachment(fd, socketInode(fd), description);
}

export class SocketFilterAttachment {
  readonly method = 'sockopt' as const;
  readonly kind = 'socket_filter' as const;
  /** The socket's fd (not ours: the caller's socket). */
  readonly socketFd: number;
  readonly description: string;
  readonly #inode?: string;
  #attached = true;

  constructor(socketFd: number, inode: string | undefined, description: string) {
    this.socketFd = socketFd;
    this.#inode = inode;
    this.description = description;
  }

  /** Whether the fd still is the socket the filter was attached to. */
  #sameSocket(): boolean {
    return this.#inode !== undefined && socketInode(this.socketFd) === this.#inode;
  }

  /** Put another program on the socket in place of this one (the kernel swaps them atomically). */
  update(program: AttachableProgram): void {
    checkFilterProgram(program);
    if (!this.#sameSocket()) throw new UsageError('CLOSED', `${this.description}: the socket is closed`);
    setSocketOption(this.socketFd, SocketLevel.SOCKET, SocketOption.ATTACH_BPF, fdValue(program), `${this.description}: replacing it with ${program.what}`);
    this.#attached = true;
  }

  /** SO_DETACH_BPF. False when there was nothing to detach (the socket is closed, or has no filter). */
  detach(): boolean {
    if (!this.#attached || !this.#sameSocket()) {
      this.#attached = false;
      return false;
    }
    this.#attached = false;
    const errno = trySetSocketOption(this.socketFd, SocketLevel.SOCKET, SocketOption.DETACH_BPF, Buffer.alloc(4));
    if (errno === Errno.ENOENT) return false;
    if (errno) throw bpfError('setsockopt', errno, `${this.description} (SO_DETACH_BPF)`);
    return true;
  }

  /** Not possible: a socket filter is part of its socket. */
  pin(path: string): never {
    throw new UsageError('NOT_SUPPORTED', `cannot pin ${this.description} at ${path}: a socket filter belongs to its socket and goes with it`, { hint: 'pin the program to keep it' });
  }

  /** Take the filter off the socket (if it is still open and ours). */
  close(): void {
    this.detach();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
