// One epoll set for every reader of this process, waited on by at most one libuv worker thread at a
// time: ten readers cost one thread-pool thread, not ten (the pool has 4 by default and fs, dns and
// crypto share it). Each ring's fd is an EPOLLONESHOT entry, armed by the reader when it has drained
// the ring and wants to hear of more; it fires once and stays quiet until re-armed, so a paused
// reader's full ring never makes the wait spin. An eventfd in the set ends a wait early when nothing
// is armed any more (close, pause): the worker thread is given back and the process may exit.
// The set and the eventfd exist only while some ring is registered.
import { Epoll, EPOLLIN, EPOLLONESHOT, EventFd, type Ready } from '../sys/epoll.js';
import type { Fd } from '../sys/fd.js';

/** A ring a reader watches. */
export interface PollSource {
  readonly fd: Fd;
  /** Names the ring in errors ("ring buffer map events", "perf ring of map events, CPU 1"). */
  readonly what: string;
  /** Data may be there (or the fd reported EPOLLERR/EPOLLHUP: `events`). Called on the event loop. */
  ready(events: number): void;
  /** The wait itself failed; the source is no longer armed. */
  failed(err: Error): void;
}

interface Entry { source: PollSource; inSet: boolean; armed: boolean }

const WAKE_TOKEN = 0;

class Poller {
  #epoll: Epoll | undefined;
  #wake: EventFd | undefined;
  readonly #entries = new Map<number, Entry>();
  #nextToken = 1;
  #armed = 0;
  /** Waits that returned with something ready, for the readers' statistics and the benchmark. */
  wakeups = 0;

  /** Watch `source` (not armed yet). Returns its token. */
  register(source: PollSource): number {
    if (!this.#epoll) {
      const epoll = Epoll.create('the event readers\' epoll set');
      try {
        const wake = EventFd.create('the event readers\' wake-up eventfd');
        epoll.add(wake.fd, EPOLLIN, WAKE_TOKEN, 'the event readers\' wake-up eventfd');
        this.#wake = wake;
      } catch (e) {
        epoll.close();
        throw e;
      }
      this.#epoll = epoll;
    }
    // Tokens are never reused: a late report for a ring closed meanwhile finds no entry.
    const token = this.#nextToken++;
    this.#entries.set(token, { source, inSet: false, armed: false });
    return token;
  }

  /** Report the next time the source's fd is readable (now, if it already is). */
  arm(token: number): void {
    const e = this.#entries.get(token);
    if (!e || e.armed) return;
    const epoll = this.#epoll!;
    if (e.inSet) epoll.modify(e.source.fd, EPOLLIN | EPOLLONESHOT, token, e.source.what);
    else {
      epoll.add(e.source.fd, EPOLLIN | EPOLLONESHOT, token, e.source.what);
      e.inSet = true;
    }
    e.armed = true;
    this.#armed++;
    if (!epoll.waiting) this.#wait();
  }

  /** Stop watching; call before closing the source's fd. Ends the pending wait if nothing else is armed. */
  unregister(token: number): void {
    const e = this.#entries.get(token);
    if (!e) return;
    this.#entries.delete(token);
    if (e.armed) this.#armed--;
    if (e.inSet && !e.source.fd.closed) {
      try {
        this.#epoll!.remove(e.source.fd, e.source.what);
      } catch {
        // Gone already: closing the fd removes it from the set anyway.
      }
    }
    this.#idle();
  }

  /** Nothing armed: give the worker thread back; nothing registered: close the set too. */
  #idle(): void {
    const epoll = this.#epoll;
    if (!epoll) return;
    if (epoll.waiting) {
      if (this.#armed === 0) this.#wake!.signal();
      return;
    }
    if (this.#entries.size === 0) {
      epoll.close();
      this.#wake!.close();
      this.#epoll = undefined;
      this.#wake = undefined;
    }
  }

  #wait(): void {
    this.#epoll!.waitAsync((err, ready) => this.#reported(err, ready));
  }

  #reported(err: Error | undefined, ready: Ready[]): void {
    if (err) {
      // Every armed source hears of it; none stays armed, so the wait is not restarted.
      const failed = [...this.#entries.values()].filter((e) => e.armed);
      for (const e of failed) e.armed = false;
      this.#armed = 0;
      for (const e of failed) deliver(() => e.source.failed(err));
      this.#idle();
      return;
    }
    const fired: [Entry, number][] = [];
    for (const r of ready) {
      if (r.token === WAKE_TOKEN) {
        this.#wake!.drain();
        continue;
      }
      const e = this.#entries.get(r.token);
      // A oneshot entry reports once; it may have been re-armed (or unregistered) since.
      if (!e || !e.armed) continue;
      e.armed = false;
      this.#armed--;
      fired.push([e, r.events]);
    }
    if (fired.length) this.wakeups++;
    for (const [e, events] of fired) deliver(() => e.source.ready(events));
    // The readers may have re-armed (which restarts the wait) or closed meanwhile.
    if (this.#epoll && !this.#epoll.waiting) {
      if (this.#armed > 0) this.#wait();
      else this.#idle();
    }
  }
}

/** Run a reader's callback; an exception (from user code it called) surfaces as uncaught, as from
 * any event listener, without leaving the poller half-way through its bookkeeping. */
function deliver(call: () => void): void {
  try {
    call();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

let poller: Poller | undefined;

/** The process's poller (created on first use; it holds fds only while rings are registered). */
export function sharedPoller(): Poller {
  poller ??= new Poller();
  return poller;
}

export type { Poller };
