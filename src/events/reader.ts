// What the ring buffer reader and the perf buffer reader share: how records get to the user. Three
// ways, one at a time per reader:
//   - for await (const ev of reader): pulls; nothing is read from the kernel until you ask for it;
//     leaving the loop (break, return, throw) closes the reader.
//   - reader.on('data', cb): pushes, up to `batch` records per turn of the event loop, then yields;
//     pause() stops after the current record (the ring fills up, the producer drops), resume() goes on.
//   - reader.consume(cb): reads what is there now, synchronously, and returns the count.
// Waiting for more goes through the shared poller (epoll on a worker thread): no busy polling, and
// the event loop is never blocked in a wait.
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors.js';
import type { Fd } from '../sys/fd.js';
import { EPOLLERR, EPOLLHUP } from '../sys/epoll.js';
import { sharedPoller } from './poller.js';
import type { RecordSource } from './record-source.js';
import { viewOf } from './view.js';

export interface ReaderOptions {
  /**
   * true (default): every record is handed out as its own Buffer, yours to keep.
   * false: a view into the ring, no copy — valid only until your 'data'/consume callback returns,
   * or (iterator) until you ask for the next record; after that the kernel may overwrite it. After
   * close() such a view reads as zeros. Copy what you keep (Buffer.from(view)).
   */
  copy?: boolean;
  /** Records handled per turn of the event loop before other work gets a turn (default 1024). */
  batch?: number;
}

/** Counters of one reader. */
export interface ReaderStats {
  /** Records handed out. */
  received: number;
  /** Times a wait reported one of this reader's rings ready. */
  wakeups: number;
}

/** One ring a reader reads: the ring's protocol, its fd, and what the events it yields carry. */
export interface ReaderRing {
  readonly source: RecordSource;
  readonly fd: Fd;
  readonly what: string;
  /** The CPU of a perf ring; -1 for a BPF ring buffer (shared by all CPUs). */
  readonly cpu: number;
}

interface Ring extends ReaderRing {
  token: number;
  /** A drain is queued (setImmediate). */
  scheduled: boolean;
  /** The fd reported EPOLLERR/EPOLLHUP: it will never have more data. */
  ended: boolean;
  /** Copy mode: records copied out of the ring (a batch at a time) and not handed out yet. */
  copies: Buffer[];
  nextCopy: number;
}

const DONE = { done: true, value: undefined } as const;

/** Item: what the iterator yields. Callback: how a record is handed to 'data' listeners and consume(). */
export abstract class EventReader<Item, Callback extends (...args: any[]) => void> extends EventEmitter {
  /** Names the reader in errors: "ring buffer reader of map events". */
  abstract readonly what: string;
  readonly #copy: boolean;
  readonly #batch: number;
  #rings: Ring[] = [];
  #closed = false;
  #flowing = false;
  #paused = false;
  #iterating = false;
  /** Bumped when 'data' listeners come or go: a drain hands records straight to the ones it saw. */
  #listenerVersion = 0;
  #waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #received = 0;
  #wakeups = 0;

  protected constructor(options: ReaderOptions) {
    super();
    const batch = options.batch ?? 1024;
    if (!Number.isInteger(batch) || batch < 1) throw new UsageError('BAD_ARGUMENT', `batch must be a positive integer (got ${String(options.batch)})`);
    this.#copy = options.copy ?? true;
    this.#batch = batch;
    this.on('newListener', (event: string | symbol) => {
      if (event !== 'data') return;
      if (this.#iterating) throw new UsageError('BUSY', `${this.what}: an async iterator is reading it; use one way of reading at a time`);
      this.#checkOpen();
      this.#listenerVersion++;
      if (!this.#flowing) queueMicrotask(() => this.#startFlowing());
    });
    this.on('removeListener', (event: string | symbol) => {
      if (event !== 'data') return;
      this.#listenerVersion++;
      if (this.listenerCount('data') === 0) this.#flowing = false;
    });
  }

  /** Register the rings with the poller; subclasses call this last in their constructor. */
  protected watch(rings: readonly ReaderRing[]): void {
    const poller = sharedPoller();
    for (const r of rings) {
      const ring: Ring = { ...r, token: 0, scheduled: false, ended: false, copies: [], nextCopy: 0 };
      ring.token = poller.register({
        fd: r.fd,
        what: r.what,
        ready: (events) => this.#ready(ring, events),
        failed: (err) => this.#failed(err),
      });
      this.#rings.push(ring);
    }
  }

  /** What the iterator yields for a record of `ring`. */
  protected abstract item(data: Buffer, ring: ReaderRing): Item;
  /** Hand a record of `ring` to a 'data' listener or consume()'s callback. */
  protected abstract deliver(data: Buffer, ring: ReaderRing, to: Callback): void;
  /** Unmap, close fds, undo map entries. Called once, by close(). */
  protected abstract release(): void;

  get closed(): boolean {
    return this.#closed;
  }

  /** True between pause() and resume(). */
  get paused(): boolean {
    return this.#paused;
  }

  get stats(): ReaderStats {
    return { received: this.#received, wakeups: this.#wakeups };
  }

  #checkOpen(): void {
    if (this.#closed) throw new UsageError('CLOSED', `${this.what} was used after close()`, { hint: 'open a new reader on the map' });
  }

  /** Copy mode: the next record of `ring`, from its batch of copies (refilled with up to `max`). */
  #nextCopy(ring: Ring, max: number): Buffer | undefined {
    if (ring.nextCopy === ring.copies.length) {
      ring.copies.length = 0;
      ring.nextCopy = 0;
      if (ring.source.copyOut(max, ring.copies) === 0) return undefined;
    }
    return ring.copies[ring.nextCopy++];
  }

  #hasRecord(ring: Ring): boolean {
    return ring.nextCopy < ring.copies.length || ring.source.peek();
  }

  /**
   * Hand up to `max` records of `ring` to `to`; stops early when `more()` turns false. Copies are
   * taken out (and the ring space given back) a batch at a time; a view's record stays in the ring
   * until the kernel is told, after the batch. Returns how many.
   */
  #handOut(ring: Ring, max: number, to: Callback, more: () => boolean): number {
    let n = 0;
    if (this.#copy) {
      while (n < max) {
        const data = this.#nextCopy(ring, Math.min(max - n, this.#batch));
        if (!data) break;
        n++;
        this.#received++;
        this.deliver(data, ring, to);
        if (!more()) break;
      }
      return n;
    }
    const source = ring.source;
    try {
      while (n < max && source.peek()) {
        const data = viewOf(source.memory, source.base + source.offset, source.length);
        n++;
        this.#received++;
        try {
          this.deliver(data, ring, to);
        } finally {
          source.advance();
        }
        if (!more()) break;
      }
    } finally {
      if (!this.#closed) source.commit();
    }
    return n;
  }

  // --- flowing ('data' listeners) ---

  #startFlowing(): void {
    if (this.#closed || this.#flowing || this.listenerCount('data') === 0) return;
    this.#flowing = true;
    if (!this.#paused) for (const ring of this.#rings) this.#schedule(ring);
  }

  #canFlow(): boolean {
    return !this.#closed && !this.#paused && this.#flowing;
  }

  /** Stop handing out records after the current one, until resume(). */
  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    this.#checkOpen();
    if (!this.#paused) return this;
    this.#paused = false;
    if (this.#flowing) for (const ring of this.#rings) this.#schedule(ring);
    return this;
  }

  #schedule(ring: Ring): void {
    if (ring.scheduled) return;
    ring.scheduled = true;
    setImmediate(() => this.#drain(ring));
  }

  readonly #emitData = ((...args: unknown[]) => { this.emit('data', ...args); }) as Callback;

  #drain(ring: Ring): void {
    ring.scheduled = false;
    if (!this.#canFlow()) return;
    // The listeners of this moment, called directly (no emit() per record) until they change.
    const version = this.#listenerVersion;
    const listeners = this.rawListeners('data') as Callback[];
    const sink = listeners.length === 1 ? listeners[0]! : this.#emitData;
    const n = this.#handOut(ring, this.#batch, sink, () => this.#canFlow() && this.#listenerVersion === version);
    if (!this.#canFlow()) return;
    // A full batch: more may be waiting, but other work gets its turn first.
    if (n === this.#batch || this.#listenerVersion !== version) this.#schedule(ring);
    else this.#arm(ring);
  }

  /**
   * Ask to hear of more data on `ring`. Then look once more: a record that landed between the last
   * look and arming may not raise a fresh wake-up (a perf ring's wake-up state is consumed by the
   * arming poll itself). True when there is a record now.
   */
  #arm(ring: Ring): boolean {
    if (ring.ended) return false;
    sharedPoller().arm(ring.token);
    if (!this.#hasRecord(ring)) return false;
    if (this.#flowing) this.#schedule(ring);
    return true;
  }

  #ready(ring: Ring, events: number): void {
    if (this.#closed) return;
    this.#wakeups++;
    if (events & (EPOLLERR | EPOLLHUP)) ring.ended = true;
    if (this.#flowing) {
      if (!this.#paused) this.#schedule(ring);
    } else {
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.resolve();
    }
  }

  #failed(err: Error): void {
    if (this.#closed) return;
    const w = this.#waiter;
    this.#waiter = undefined;
    this.close();
    if (w) w.reject(err);
    else this.emit('error', err);
  }

  // --- consume(cb) ---

  /**
   * Hand every record that is there now to `callback` (synchronously), up to `max`; returns how
   * many. With copy: false the Buffer is valid only during the callback.
   */
  protected consumeWith(callback: Callback, max = Infinity): number {
    this.#checkOpen();
    if (this.#iterating) throw new UsageError('BUSY', `${this.what}: an async iterator is reading it; use one way of reading at a time`);
    let n = 0;
    for (const ring of this.#rings) {
      n += this.#handOut(ring, max - n, callback, () => !this.#closed);
      if (this.#closed) break;
    }
    return n;
  }

  // --- async iteration ---

  [Symbol.asyncIterator](): AsyncIterableIterator<Item> {
    this.#checkOpen();
    if (this.#iterating) throw new UsageError('BUSY', `${this.what} already has an async iterator; use one at a time`);
    if (this.listenerCount('data') > 0) throw new UsageError('BUSY', `${this.what} has 'data' listeners; use one way of reading at a time`);
    this.#iterating = true;
    const rings = this.#rings;
    // Views: the record handed out last, stepped past (and the kernel told) when the next is asked for.
    let held: Ring | undefined;
    let turn = 0;
    const take = (): Item | undefined => {
      for (let k = 0; k < rings.length; k++) {
        const ring = rings[(turn + k) % rings.length]!;
        let data: Buffer | undefined;
        if (this.#copy) data = this.#nextCopy(ring, this.#batch);
        else if (ring.source.peek()) {
          const source = ring.source;
          data = viewOf(source.memory, source.base + source.offset, source.length);
          held = ring;
        }
        if (data) {
          turn = (turn + k + 1) % rings.length;
          this.#received++;
          return this.item(data, ring);
        }
      }
      return undefined;
    };
    const readable = (): Promise<void> => new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      if (rings.some((ring) => this.#arm(ring)) || rings.every((r) => r.ended)) {
        this.#waiter = undefined;
        resolve();
      }
    });
    const wait = async (): Promise<IteratorResult<Item>> => {
      for (;;) {
        if (this.#closed) return DONE;
        const value = take();
        if (value !== undefined) return { done: false, value };
        if (rings.every((r) => r.ended)) {
          this.close();
          return DONE;
        }
        await readable();
        sinceYield = 0;
      }
    };
    // Records that are there are handed out as already-resolved promises, and a for-await loop on
    // those runs as microtasks, which never let timers or I/O in: every `batch` records, the next
    // one waits for a turn of the event loop (setImmediate).
    let sinceYield = 0;
    const afterATurn = (): Promise<IteratorResult<Item>> => new Promise((resolve, reject) => {
      setImmediate(() => {
        sinceYield = 0;
        iterator.next().then(resolve, reject);
      });
    });
    const iterator: AsyncIterableIterator<Item> = {
      next: (): Promise<IteratorResult<Item>> => {
        if (sinceYield >= this.#batch) return afterATurn();
        sinceYield++;
        if (held) {
          const source = held.source;
          held = undefined;
          if (!this.#closed) {
            source.advance();
            source.commit();
          }
        }
        if (this.#closed) return Promise.resolve(DONE);
        const value = take();
        return value !== undefined ? Promise.resolve({ done: false, value }) : wait();
      },
      return: async (): Promise<IteratorResult<Item>> => {
        this.close();
        return DONE;
      },
      throw: async (err?: unknown): Promise<IteratorResult<Item>> => {
        this.close();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  // --- close ---

  /**
   * Stop reading and give everything back: the rings leave the epoll set (a pending wait that has
   * nothing else to wait for is woken and its worker thread returned), the memory is unmapped, the
   * fds closed; iterators end and a pending next() resolves as done. Records not read yet are
   * dropped. Idempotent. Emits 'close'.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flowing = false;
    const poller = sharedPoller();
    for (const ring of this.#rings) {
      poller.unregister(ring.token);
      ring.copies.length = 0;
    }
    try {
      this.release();
    } finally {
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.resolve();
      process.nextTick(() => this.emit('close'));
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
