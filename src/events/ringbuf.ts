// Reading a BPF_MAP_TYPE_RINGBUF map (bpf_ringbuf_output / reserve + submit in the program) on the
// event loop. The map is mapped as the kernel lays it out: the consumer page read-write at offset 0,
// then the producer page and the data read-only from one page in, the data twice (the kernel maps
// its pages twice in a row), so a record is always contiguous. Records arrive in the order the
// programs reserved them, from every CPU; discarded ones are skipped.
import { UsageError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import { Errno } from '../sys/errno.js';
import { closeOnThrow, type Fd } from '../sys/fd.js';
import { mapInfo } from '../sys/info.js';
import { Mapping } from '../sys/mmap.js';
import { systemPageSize } from '../sys/page-size.js';
import { enumName, MapType } from '../uapi/enums.js';
import { EventReader, type ReaderOptions, type ReaderRing, type ReaderStats } from './reader.js';
import { RingBufferRing } from './ringbuf-ring.js';

export type RingBufferOptions = ReaderOptions;

export interface RingBufferStats extends ReaderStats {
  /** Records the programs discarded (bpf_ringbuf_discard), skipped. */
  discarded: number;
}

/** The map as the reader needs it: a BpfMap, or anything with its fd and name. */
export type RingBufferMap = Pick<BpfMap, 'fd' | 'name'>;

/**
 * Reads the records of a ring buffer map. Three ways (one at a time): `for await (const data of
 * reader)`, `reader.on('data', (data) => …)` with pause()/resume(), or `reader.consume(cb)` for
 * what is there now. Each record is a Buffer: a copy by default, or with `{ copy: false }` a view
 * into the ring that is valid only until your callback returns (or the iterator's next step).
 * The reader holds its own fd of the map: closing the map does not stop it; close() the reader.
 */
export class RingBufferReader extends EventReader<Buffer, (data: Buffer) => void> {
  readonly what: string;
  /** The map's name and its data size in bytes (max_entries). */
  readonly mapName: string;
  readonly size: number;
  readonly #fd: Fd;
  readonly #mappings: Mapping[] = [];
  readonly #ring: RingBufferRing;

  constructor(map: RingBufferMap, options: RingBufferOptions = {}) {
    super(options);
    this.mapName = map.name;
    this.what = `ring buffer reader of map ${map.name}`;
    this.#fd = map.fd.dup();
    const { size, ring } = closeOnThrow(this.#fd, (fd) => {
      const info = mapInfo(fd, `map ${map.name}`);
      if (info.type !== MapType.RINGBUF) {
        throw new UsageError('WRONG_KIND', `map ${map.name} is a ${enumName(MapType, info.type)} map, not a RINGBUF: a ring buffer reader cannot read it`, {
          hint: info.type === MapType.PERF_EVENT_ARRAY ? 'read a PERF_EVENT_ARRAY with new PerfBufferReader(map)'
            : info.type === MapType.USER_RINGBUF ? 'a USER_RINGBUF is written by user space and drained by the program; it has no records to read'
              : 'give it the map the program calls bpf_ringbuf_output/bpf_ringbuf_reserve on',
        });
      }
      try {
        const page = systemPageSize();
        const size = info.maxEntries;
        const hints = {
          [Errno.EPERM]: 'the kernel maps only the consumer page of a ring buffer writable',
          [Errno.EINVAL]: `the size does not match the map: a ring buffer maps one page, then one page and twice its ${size} bytes`,
        };
        const consumer = Mapping.map(fd, page, 0, true, `the consumer page of ring buffer map ${map.name}`, hints);
        this.#mappings.push(consumer);
        const producer = Mapping.map(fd, page + 2 * size, page, false, `the producer page and data of ring buffer map ${map.name}`, hints);
        this.#mappings.push(producer);
        const bytes = producer.bytes;
        const ring = new RingBufferRing({ consumer: consumer.bytes, producer: bytes.subarray(0, page), data: bytes.subarray(page), size });
        return { size, ring };
      } catch (e) {
        for (const m of this.#mappings) m.release();
        throw e;
      }
    });
    this.size = size;
    this.#ring = ring;
    const rings: ReaderRing[] = [{ source: ring, fd: this.#fd, what: `ring buffer map ${map.name}`, cpu: -1 }];
    try {
      this.watch(rings);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Bytes in the ring not read yet (records still being written included). */
  get pending(): number {
    if (this.closed) return 0;
    return this.#ring.available();
  }

  override get stats(): RingBufferStats {
    return { ...super.stats, discarded: this.#ring.discarded };
  }

  /**
   * Hand every record that is there now to `callback`, synchronously, up to `max`; returns how many.
   * Never waits. With `{ copy: false }` the Buffer is valid only during the callback.
   */
  consume(callback: (data: Buffer) => void, max?: number): number {
    return this.consumeWith(callback, max);
  }

  protected item(data: Buffer): Buffer {
    return data;
  }

  protected deliver(data: Buffer, _ring: ReaderRing, to: (data: Buffer) => void): void {
    to(data);
  }

  protected release(): void {
    for (const m of this.#mappings) m.release();
    this.#fd.close();
  }

  override on(event: 'data', listener: (data: Buffer) => void): this;
  override on(event: 'error', listener: (err: Error) => void): this;
  override on(event: 'close', listener: () => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }
}
