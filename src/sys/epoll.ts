// epoll(7) and eventfd(2): how readers learn that a ring buffer or perf ring has data without polling
// it. Node cannot watch an arbitrary fd, so the wait itself (epoll_pwait) runs on a libuv worker
// thread through koffi's async calls and reports back on the event loop; an eventfd in the same set
// ends a wait early. Everything else (epoll_ctl, eventfd reads and writes) is a quick synchronous call.
import { arch } from 'node:process';
import { bpfError, Errno } from './errno.js';
import { Fd } from './fd.js';
import { nativeLibc } from './libc.js';

export const EPOLLIN = 0x1;
export const EPOLLERR = 0x8;
export const EPOLLHUP = 0x10;
/** Report once, then stay disabled until re-armed with EPOLL_CTL_MOD. */
export const EPOLLONESHOT = 1 << 30;

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;

// struct epoll_event is packed on x86-64 only (EPOLL_PACKED in the uapi header): 12 bytes there,
// 16 elsewhere (the u64 data aligned to 8).
const EVENT_SIZE = arch === 'x64' ? 12 : 16;
const DATA_OFFSET = arch === 'x64' ? 4 : 8;

type AsyncResult = (err: unknown, result: number) => void;
interface EpollBinding {
  create1(flags: number): number;
  ctl(epfd: number, op: number, fd: number, event: Buffer | null): number;
  pwait(epfd: number, events: Buffer, max: number, timeout: number, sigmask: Buffer): number;
  pwaitAsync(epfd: number, events: Buffer, max: number, timeout: number, sigmask: Buffer, done: AsyncResult): void;
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Buffer, n: number): number;
  read(fd: number, buf: Buffer, n: number): number;
  errno(): number;
}

let bound: EpollBinding | undefined;
function binding(): EpollBinding {
  if (bound) return bound;
  const { koffi, lib } = nativeLibc();
  const create1 = lib.func('int epoll_create1(int flags)');
  const ctl = lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)');
  const pwait = lib.func('int epoll_pwait(int epfd, void *events, int maxevents, int timeout, void *sigmask)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  const write = lib.func('long write(int fd, void *buf, size_t count)');
  const read = lib.func('long read(int fd, void *buf, size_t count)');
  bound = {
    create1: (flags) => create1(flags),
    ctl: (epfd, op, fd, event) => ctl(epfd, op, fd, event),
    pwait: (epfd, events, max, timeout, sigmask) => pwait(epfd, events, max, timeout, sigmask),
    pwaitAsync: (epfd, events, max, timeout, sigmask, done) => pwait.async(epfd, events, max, timeout, sigmask, done),
    eventfd: (initval, flags) => eventfd(initval, flags),
    write: (fd, buf, n) => Number(write(fd, buf, n)),
    read: (fd, buf, n) => Number(read(fd, buf, n)),
    errno: () => koffi.errno(),
  };
  return bound;
}

/** A ready fd, as epoll reported it. */
export interface Ready {
  /** The token given to add()/modify(). */
  token: number;
  /** EPOLLIN, EPOLLERR, EPOLLHUP bits. */
  events: number;
}

// Every signal blocked during the wait, so the worker thread is never interrupted (no EINTR) and
// signals go to the threads that handle them.
const ALL_SIGNALS = Buffer.alloc(128, 0xff);

/** An epoll set. At most one wait at a time (waitAsync); control calls may run while it waits. */
export class Epoll {
  readonly fd: Fd;
  readonly #events: Buffer;
  readonly #max: number;
  readonly #what: string;
  #waiting = false;

  private constructor(fd: Fd, max: number, what: string) {
    this.fd = fd;
    this.#max = max;
    this.#events = Buffer.alloc(EVENT_SIZE * max);
    this.#what = what;
  }

  /** epoll_create1(EPOLL_CLOEXEC); `max` is how many ready fds one wait reports at most. */
  static create(what: string, max = 64): Epoll {
    const b = binding();
    const raw = b.create1(O_CLOEXEC);
    if (raw < 0) throw bpfError('epoll_create1', b.errno(), what, { hint: 'the process is out of file descriptors (ulimit -n) or of memory' });
    return new Epoll(new Fd(raw), max, what);
  }

  get waiting(): boolean {
    return this.#waiting;
  }

  #ctl(op: number, fd: number, events: number, token: number, what: string): void {
    const b = binding();
    let ev: Buffer | null = null;
    if (op !== EPOLL_CTL_DEL) {
      ev = Buffer.alloc(EVENT_SIZE);
      ev.writeUInt32LE(events >>> 0, 0);
      ev.writeBigUInt64LE(BigInt(token), DATA_OFFSET);
    }
    if (b.ctl(this.fd.value, op, fd, ev) < 0) {
      const errno = b.errno();
      const name = op === EPOLL_CTL_ADD ? 'EPOLL_CTL_ADD' : op === EPOLL_CTL_MOD ? 'EPOLL_CTL_MOD' : 'EPOLL_CTL_DEL';
      throw bpfError(`epoll_ctl ${name}`, errno, what, {
        hint: errno === Errno.EPERM ? 'this fd cannot be polled (it is not a ring buffer map or a perf event)'
          : errno === Errno.EBADF ? 'the fd was closed while it was being watched' : undefined,
      });
    }
  }

  /** Watch `fd` for `events`; `token` comes back in Ready. */
  add(fd: Fd, events: number, token: number, what: string): void {
    this.#ctl(EPOLL_CTL_ADD, fd.value, events, token, what);
  }

  /** Change what `fd` is watched for (re-arms an EPOLLONESHOT entry). */
  modify(fd: Fd, events: number, token: number, what: string): void {
    this.#ctl(EPOLL_CTL_MOD, fd.value, events, token, what);
  }

  /** Stop watching `fd`. */
  remove(fd: Fd, what: string): void {
    this.#ctl(EPOLL_CTL_DEL, fd.value, 0, 0, what);
  }

  /**
   * Wait on a libuv worker thread until something is ready (no timeout: an eventfd in the set ends
   * it early), then call `done` on the event loop. The pending call keeps the event loop alive.
   */
  waitAsync(done: (err: Error | undefined, ready: Ready[]) => void): void {
    if (this.#waiting) throw new Error(`${this.#what}: a second epoll wait was started while one is pending`);
    this.#waiting = true;
    const events = this.#events;
    binding().pwaitAsync(this.fd.value, events, this.#max, -1, ALL_SIGNALS, (err, n) => {
      this.#waiting = false;
      if (err) return done(err instanceof Error ? err : new Error(String(err)), []);
      if (n < 0) {
        // errno belongs to the worker thread: ask again here, without waiting, to learn it. A wait
        // that works now was interrupted (a stop signal, which cannot be blocked): not an error.
        const b = binding();
        const again = this.fd.closed ? -1 : b.pwait(this.fd.value, events, this.#max, 0, ALL_SIGNALS);
        if (again >= 0) return done(undefined, decode(events, again));
        return done(bpfError('epoll_pwait', this.fd.closed ? Errno.EBADF : b.errno(), this.#what), []);
      }
      done(undefined, decode(events, n));
    });
  }

  close(): void {
    this.fd.close();
  }
}

function decode(events: Buffer, n: number): Ready[] {
  const out: Ready[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * EVENT_SIZE;
    out.push({ events: events.readUInt32LE(at), token: Number(events.readBigUInt64LE(at + DATA_OFFSET)) });
  }
  return out;
}

/** An eventfd(2): a counter another wait can be woken through. Non-blocking. */
export class EventFd {
  readonly fd: Fd;
  readonly #word = Buffer.alloc(8);

  private constructor(fd: Fd) {
    this.fd = fd;
  }

  static create(what: string): EventFd {
    const b = binding();
    const raw = b.eventfd(0, O_CLOEXEC | O_NONBLOCK);
    if (raw < 0) throw bpfError('eventfd', b.errno(), what, { hint: 'the process is out of file descriptors (ulimit -n)' });
    return new EventFd(new Fd(raw));
  }

  /** Make the fd readable (wakes an epoll wait watching it). */
  signal(): void {
    this.#word.writeBigUInt64LE(1n);
    binding().write(this.fd.value, this.#word, 8);
  }

  /** Reset the counter to 0 (EAGAIN when it already was: fine). */
  drain(): void {
    binding().read(this.fd.value, this.#word, 8);
  }

  close(): void {
    this.fd.close();
  }
}
