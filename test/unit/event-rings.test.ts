// The ring protocols without a kernel: a fake BPF ring buffer (consumer page, producer page, data
// written twice the way the kernel maps it) and a fake perf ring, written as the kernel writes them,
// read by RingBufferRing / PerfRing. Order, BUSY and DISCARD bits, 8-byte padding, wrap-around,
// positions past 2^32, PERF_RECORD_LOST counts, and which CPUs a perf reader covers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingBufferRing } from '../../src/events/ringbuf-ring.js';
import { PerfRing } from '../../src/events/perf-ring.js';
import { coverage } from '../../src/events/perfbuf.js';
import { parseCpuList } from '../../src/sys/cpus.js';
import { UsageError } from '../../src/errors.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/** A ring buffer as the kernel lays it out, and a producer that writes records into it. */
class FakeRingbuf {
  readonly consumer = Buffer.alloc(4096);
  readonly producer = Buffer.alloc(4096);
  readonly data: Buffer;
  prod: number;

  constructor(readonly size: number, start = 0) {
    this.data = Buffer.alloc(2 * size);
    this.prod = start;
    this.consumer.writeBigUInt64LE(BigInt(start));
    this.producer.writeBigUInt64LE(BigInt(start));
  }

  get cons(): number {
    return Number(this.consumer.readBigUInt64LE(0));
  }

  /** Both halves, as the double mapping shows them. */
  #write(at: number, bytes: Buffer): void {
    for (let i = 0; i < bytes.length; i++) {
      const p = (at + i) % this.size;
      this.data[p] = bytes[i]!;
      this.data[p + this.size] = bytes[i]!;
    }
  }

  /** Reserve: header with BUSY; returns the record's position. Throws when it does not fit. */
  reserve(len: number): number {
    const padded = (len + 8 + 7) & ~7;
    if (this.prod + padded - this.cons > this.size) throw new Error('full');
    const at = this.prod;
    const h = Buffer.alloc(8);
    h.writeUInt32LE((len | BUSY) >>> 0, 0);
    this.#write(at, h);
    this.prod += padded;
    this.producer.writeBigUInt64LE(BigInt(this.prod));
    return at;
  }

  commit(at: number, payload: Buffer, discard = false): void {
    this.#write(at + 8, payload);
    const h = Buffer.alloc(4);
    h.writeUInt32LE((payload.length | (discard ? DISCARD : 0)) >>> 0, 0);
    this.#write(at, h);
  }

  output(payload: Buffer, discard = false): void {
    this.commit(this.reserve(payload.length), payload, discard);
  }

  ring(): RingBufferRing {
    return new RingBufferRing({ consumer: this.consumer, producer: this.producer, data: this.data, size: this.size });
  }
}

function payload(seq: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  return b;
}

function readAll(ring: RingBufferRing): Buffer[] {
  const out: Buffer[] = [];
  while (ring.peek()) {
    out.push(Buffer.from(ring.bytes.subarray(ring.offset, ring.offset + ring.length)));
    ring.advance();
  }
  ring.commit();
  return out;
}

test('ring buffer: records in order with their exact lengths; the consumer position is each padded record', () => {
  const fake = new FakeRingbuf(4096);
  const lens = [1, 7, 8, 9, 16, 100, 0];
  lens.forEach((n, i) => fake.output(payload(i, n)));
  const ring = fake.ring();
  assert.is(ring.available(), lens.reduce((s, n) => s + ((n + 15) & ~7), 0));
  const got = readAll(ring);
  assert.equal(got.map((b) => b.length), lens);
  got.forEach((b, i) => assert.equal(b, payload(i, lens[i]!)));
  assert.is(fake.cons, fake.prod, 'everything consumed');
  assert.is(ring.available(), 0);
  assert.is(ring.peek(), false);
});

test('ring buffer: a BUSY record stops reading (in order), even with committed records after it; discarded ones are skipped', () => {
  const fake = new FakeRingbuf(4096);
  fake.output(payload(0, 10));
  const busy = fake.reserve(20);
  fake.output(payload(2, 30));
  fake.output(payload(3, 5), true);
  fake.output(payload(4, 40));
  const ring = fake.ring();
  assert.equal(readAll(ring).map((b) => b.length), [10]);
  const stoppedAt = fake.cons;
  assert.is(stoppedAt, 24, 'stepped past the first record only');
  assert.is(ring.peek(), false, 'still busy');
  fake.commit(busy, payload(1, 20));
  assert.equal(readAll(ring).map((b) => b.length), [20, 30, 40]);
  assert.ok(fake.cons > stoppedAt);
  assert.is(ring.discarded, 1);
  assert.is(fake.cons, fake.prod);
});

test('ring buffer: records that wrap past the end are read whole (the data is mapped twice); the ring turns many times', () => {
  const fake = new FakeRingbuf(4096);
  const ring = fake.ring();
  let seq = 0;
  let read = 0;
  let wrapped = 0;
  for (let round = 0; round < 200; round++) {
    for (let k = 0; k < 3; k++) {
      const len = 1 + ((seq * 389) % 1500);
      const at = fake.prod % 4096;
      if (at + 8 + len > 4096) wrapped++;
      fake.output(payload(seq++, len));
    }
    for (const b of readAll(ring)) {
      assert.equal(b, payload(read, 1 + ((read * 389) % 1500)), `record ${read}`);
      read++;
    }
  }
  assert.is(read, seq);
  assert.ok(wrapped > 10, `only ${wrapped} records wrapped`);
  assert.ok(fake.cons > 40 * 4096, 'the ring turned');
});

test('ring buffer: positions past 2^32 stay exact (the consumer position is stored as a whole u64 when its high half changes)', () => {
  const start = 2 ** 32 - 64;
  const fake = new FakeRingbuf(4096, start);
  const ring = fake.ring();
  for (let i = 0; i < 20; i++) fake.output(payload(i, 24));
  assert.equal(readAll(ring).map((b, i) => b.equals(payload(i, 24))), Array(20).fill(true));
  assert.is(fake.cons, start + 20 * 32);
  assert.is(fake.consumer.readUInt32LE(4), 1, 'high half written');
});

test('ring buffer: copyOut() takes a batch in one copy, each record its own Buffer over it, skips discarded ones, and commits', () => {
  const fake = new FakeRingbuf(4096);
  const ring = fake.ring();
  let seq = 0;
  let discards = 0;
  for (let round = 0; round < 50; round++) {
    const want: Buffer[] = [];
    for (let k = 0; k < 5; k++, seq++) {
      const p = payload(seq, 1 + ((seq * 211) % 600));
      const discard = seq % 7 === 6;
      fake.output(p, discard);
      if (discard) discards++;
      else want.push(p);
    }
    const first: Buffer[] = [];
    assert.is(ring.copyOut(3, first), first.length);
    assert.ok(first.length <= 3);
    assert.ok(first.every((b) => b.buffer === first[0]!.buffer), 'one allocation for the batch');
    const rest: Buffer[] = [];
    ring.copyOut(100, rest);
    assert.is(fake.cons, fake.prod, 'committed');
    // Copies: the ring being overwritten does not change them.
    fake.data.fill(0xee);
    assert.equal([...first, ...rest], want, `round ${round}`);
  }
  assert.is(ring.discarded, discards);
});

test('ring buffer: sizes that are not a power of 2 or data not mapped twice are refused', () => {
  assert.throws(() => new RingBufferRing({ consumer: Buffer.alloc(8), producer: Buffer.alloc(8), data: Buffer.alloc(2 * 3000), size: 3000 }), /power of 2/);
  assert.throws(() => new RingBufferRing({ consumer: Buffer.alloc(8), producer: Buffer.alloc(8), data: Buffer.alloc(4096), size: 4096 }), /mapped twice/);
});

/** A perf ring: metadata page (data_head at 1024, data_tail at 1032) and 2^n data pages, mapped once. */
class FakePerf {
  readonly meta = Buffer.alloc(4096);
  readonly data: Buffer;
  head = 0;

  constructor(readonly size: number) {
    this.data = Buffer.alloc(size);
  }

  get tail(): number {
    return Number(this.meta.readBigUInt64LE(1032));
  }

  #write(bytes: Buffer): void {
    for (let i = 0; i < bytes.length; i++) this.data[(this.head + i) % this.size] = bytes[i]!;
    this.head += bytes.length;
  }

  /** A PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW, padded like the kernel pads it. */
  sample(raw: Buffer): void {
    const rawSize = ((raw.length + 4 + 7) & ~7) - 4;
    const rec = Buffer.alloc(8 + 4 + rawSize);
    rec.writeUInt32LE(9, 0);
    rec.writeUInt16LE(rec.length, 6);
    rec.writeUInt32LE(rawSize, 8);
    raw.copy(rec, 12);
    this.#write(rec);
  }

  lost(count: number): void {
    const rec = Buffer.alloc(24);
    rec.writeUInt32LE(2, 0);
    rec.writeUInt16LE(24, 6);
    rec.writeBigUInt64LE(77n, 8);
    rec.writeBigUInt64LE(BigInt(count), 16);
    this.#write(rec);
  }

  other(): void {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(14, 0); // PERF_RECORD_THROTTLE-like: not for us
    rec.writeUInt16LE(16, 6);
    this.#write(rec);
  }

  publish(): void {
    this.meta.writeBigUInt64LE(BigInt(this.head), 1024);
  }
}

test('perf ring: raw samples in order (padded to keep records 8-aligned), LOST counts, other records skipped', () => {
  const fake = new FakePerf(4096);
  const ring = new PerfRing({ meta: fake.meta, data: fake.data });
  const lost: number[] = [];
  ring.onLost = (n) => lost.push(n);
  fake.sample(payload(0, 20));
  fake.lost(5);
  fake.sample(payload(1, 21));
  fake.other();
  fake.sample(payload(2, 4));
  assert.is(ring.peek(), false, 'nothing published yet');
  fake.publish();
  const got: Buffer[] = [];
  while (ring.peek()) {
    got.push(Buffer.from(ring.bytes.subarray(ring.offset, ring.offset + ring.length)));
    ring.advance();
  }
  assert.is(fake.tail, 0, 'the kernel is told only on commit()');
  ring.commit();
  assert.equal(got.map((b) => b.length), [20, 28, 4]);
  assert.equal(got[0], payload(0, 20));
  assert.equal(got[1]!.subarray(0, 21), payload(1, 21));
  assert.is(got[1]!.length - 21, 7, 'the padding is part of the sample (the kernel keeps no exact length)');
  assert.equal(lost, [5]);
  assert.is(ring.lost, 5);
  assert.is(ring.skipped, 1);
  assert.is(fake.tail, fake.head, 'data_tail stored');
});

test('perf ring: a record split by the end of the ring is put together', () => {
  const fake = new FakePerf(4096);
  const ring = new PerfRing({ meta: fake.meta, data: fake.data });
  let seq = 0;
  let read = 0;
  for (let round = 0; round < 100; round++) {
    for (let k = 0; k < 4; k++) fake.sample(payload(seq++, 8 + ((seq * 53) % 700)));
    fake.publish();
    while (ring.peek()) {
      const len = 8 + (((read + 1) * 53) % 700);
      assert.equal(ring.bytes.subarray(ring.offset, ring.offset + len), payload(read, len), `sample ${read}`);
      ring.advance();
      read++;
    }
  }
  assert.is(read, seq);
  assert.ok(fake.head > 20 * 4096);
});

test('perf ring: copyOut() across the end of the ring, and a LOST record reported after the samples before it', () => {
  const fake = new FakePerf(4096);
  const ring = new PerfRing({ meta: fake.meta, data: fake.data });
  const events: string[] = [];
  ring.onLost = (n) => events.push(`lost ${n}`);
  let seq = 0;
  let read = 0;
  for (let round = 0; round < 60; round++) {
    fake.sample(payload(seq, 100 + seq++));
    fake.sample(payload(seq, 100 + seq++));
    if (round % 10 === 3) fake.lost(round);
    fake.sample(payload(seq, 100 + seq++));
    fake.publish();
    for (let out: Buffer[] = []; ring.copyOut(1000, out) > 0; out = []) {
      for (const b of out) {
        events.push(`sample ${read}`);
        assert.equal(b.subarray(0, 100 + read), payload(read, 100 + read), `sample ${read}`);
        read++;
      }
    }
    assert.is(fake.tail, fake.head);
  }
  assert.is(read, seq);
  assert.ok(fake.head > 5 * 4096, 'the ring turned');
  // round 3: samples 9, 10, then LOST, then 11.
  assert.equal(events.slice(events.indexOf('sample 9'), events.indexOf('sample 9') + 4), ['sample 9', 'sample 10', 'lost 3', 'sample 11']);
  assert.is(ring.lost, 3 + 13 + 23 + 33 + 43 + 53);
});

test('perf ring: a corrupt record size is an error, not an endless loop', () => {
  const fake = new FakePerf(4096);
  const ring = new PerfRing({ meta: fake.meta, data: fake.data });
  fake.data.writeUInt32LE(9, 0);
  fake.data.writeUInt16LE(0, 6);
  fake.head = 64;
  fake.publish();
  assert.throws(() => ring.peek(), /corrupt/);
});

test('perf reader coverage: online CPUs below max_entries; the others listed with the reason', () => {
  assert.equal(parseCpuList('0-3,5,7-8\n'), [0, 1, 2, 3, 5, 7, 8]);
  assert.equal(coverage(64, undefined, 'r', [0, 1], 2), { cpus: [0, 1], uncovered: [] });
  assert.equal(coverage(1, undefined, 'r', [0, 1], 2), { cpus: [0], uncovered: [{ cpu: 1, reason: 'beyond max_entries' }] });
  assert.equal(coverage(8, undefined, 'r', [0, 2, 3], 4), { cpus: [0, 2, 3], uncovered: [{ cpu: 1, reason: 'offline' }] });
  assert.equal(coverage(8, [1], 'r', [0, 1], 2), { cpus: [1], uncovered: [{ cpu: 0, reason: 'not asked for' }] });
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof UsageError && e.code === 'BAD_ARGUMENT' && re.test(e.message));
  bad(() => coverage(1, [1], 'r', [0, 1], 2), /no slot in the map \(max_entries 1\)/);
  bad(() => coverage(8, [5], 'r', [0, 1], 2), /does not exist/);
  bad(() => coverage(8, [1], 'r', [0], 2), /offline/);
  bad(() => coverage(0, undefined, 'r', [0, 1], 2), /no CPU to read/);
});

test.run();
