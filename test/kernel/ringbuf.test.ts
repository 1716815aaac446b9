// RingBufferReader on the real kernel. The events fixture's raw_tp producers run with
// BPF_PROG_TEST_RUN (deterministic: this thread, this moment), a tracepoint program with real
// wake-ups from getppid(). Every record must arrive exactly once, in order, byte for byte: across
// many turns of the ring, records bigger than a page, discarded records skipped; the three ways of
// reading, pause/back-pressure, close during a wait, and nothing left behind (fds, mappings).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { BpfMap, MapType, RingBufferReader, UsageError } from '../../src/index.js';
import { LazyBtf } from '../../src/btf/lazy.js';
import { BtfKind } from '../../src/btf/kinds.js';
import { RingbufHeader } from '../../src/uapi/ringbuf.js';
import { skipIf } from '../support/skip.js';
import { checkRecord, eventually, kernelMappings, loadEvents, openFdCount, withEvents, pollerIdle, sizeOf } from './events-fixture.js';

const t = suite('ring buffer reader');

const usage = (code: string, re: RegExp) => (e: unknown) => e instanceof UsageError && e.code === code && re.test(e.message + ' ' + (e.hint ?? ''));


const VMLINUX = '/sys/kernel/btf/vmlinux';
skipIf(t, existsSync(VMLINUX) ? undefined : `${VMLINUX} is missing (no CONFIG_DEBUG_INFO_BTF): nothing to compare against`)('the header bits and size are the kernel\'s (BTF)', () => {
  const btf = LazyBtf.read(VMLINUX);
  const values = new Map<string, number>();
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) !== BtfKind.ENUM) continue;
    for (const v of (btf.type(id) as { values: { name: string; value: number }[] }).values) if (v.name.startsWith('BPF_RINGBUF_')) values.set(v.name, v.value >>> 0);
  }
  assert.is(values.get('BPF_RINGBUF_BUSY_BIT'), RingbufHeader.BUSY_BIT);
  assert.is(values.get('BPF_RINGBUF_DISCARD_BIT'), RingbufHeader.DISCARD_BIT);
  assert.is(values.get('BPF_RINGBUF_HDR_SZ'), RingbufHeader.HDR_SZ);
});

t('consume(): every record once, in order, byte for byte, over 40 turns of a 16 KiB ring with sizes from 16 to 3 KiB', withEvents({ ringSize: 16384 }, (ev) => {
  const reader = new RingBufferReader(ev.ring);
  try {
    assert.is(reader.size, 16384);
    let expected = 0;
    let bytes = 0;
    for (let round = 0; round < 150; round++) {
      // 4 records of at most ~3 KiB always fit in 16 KiB.
      ev.run('ring_output', { count: 4, size: 16, step: 977, span: 3000 });
      const n = reader.consume((data) => {
        const { seq } = checkRecord(data, sizeOf(expected, 16, 977, 3000));
        assert.is(seq, expected, 'in order, none missing');
        assert.is(data.length, sizeOf(expected, 16, 977, 3000), 'exact length');
        bytes += data.length;
        expected++;
      });
      assert.is(n, 4);
    }
    assert.is(ev.counters().ringDrops, 0);
    assert.ok(bytes > 40 * 16384, `the ring turned (${bytes} bytes)`);
    assert.is(reader.pending, 0);
    assert.is(reader.stats.received, 600);
  } finally {
    reader.close();
  }
}));

t('records larger than a page (5–9 KiB in a 16 KiB ring), through the async iterator', withEvents({ ringSize: 16384 }, async (ev) => {
  const reader = new RingBufferReader(ev.ring);
  const sizes: number[] = [];
  setImmediate(function produce() {
    if (sizes.length >= 30) return;
    ev.run('ring_output', { count: 1, size: 5000, step: 1237, span: 4200 });
    sizes.push(sizeOf(sizes.length, 5000, 1237, 4200));
  });
  let i = 0;
  for await (const data of reader) {
    const { seq } = checkRecord(data, sizes[i]!);
    assert.is(seq, i);
    assert.ok(data.length > 4096);
    i++;
    if (i === 30) break;
    // The next record is produced only after this one is read: the ring never holds two.
    setImmediate(() => {
      ev.run('ring_output', { count: 1, size: 5000, step: 1237, span: 4200 });
      sizes.push(sizeOf(sizes.length, 5000, 1237, 4200));
    });
  }
  assert.is(i, 30);
  assert.ok(reader.closed, 'break closes the reader');
}));

t('discarded records are skipped and counted; the others arrive in order', withEvents({}, (ev) => {
  const reader = new RingBufferReader(ev.ring);
  try {
    ev.run('ring_reserve', { count: 90, flags: 3 });
    const seqs: number[] = [];
    reader.consume((data) => {
      assert.is(data.length, 48);
      const seq = Number(data.readBigUInt64LE(0));
      assert.is(data.readBigUInt64LE(16), BigInt(seq * 3));
      assert.is(data.readBigUInt64LE(24), BigInt.asUintN(64, ~BigInt(seq)));
      assert.is(data.readBigUInt64LE(32), 0x0123456789abcdefn);
      seqs.push(seq);
    });
    assert.equal(seqs, Array.from({ length: 90 }, (_, i) => i).filter((n) => n % 3 !== 0));
    assert.is(reader.stats.discarded, 30);
  } finally {
    reader.close();
  }
}));

t('real wake-ups: the iterator waits (no polling) until a tracepoint program submits, and gets each getppid() once', withEvents({}, async (ev) => {
  const link = ev.loaded.programs.get('ring_getppid')!.attach();
  const reader = new RingBufferReader(ev.ring);
  try {
    const start = ev.counters().seq;
    let calls = 0;
    const timer = setInterval(() => {
      for (let k = 0; k < 5 && calls < 50; k++, calls++) void process.ppid;
    }, 2);
    const got: number[] = [];
    for await (const data of reader) {
      assert.is(data.length, 16);
      got.push(Number(data.readBigUInt64LE(0)));
      if (got.length === 50) break;
    }
    clearInterval(timer);
    assert.equal(got, Array.from({ length: 50 }, (_, i) => start + i));
    assert.ok(reader.stats.wakeups >= 1, 'woken by epoll');
    assert.ok(reader.stats.wakeups <= 50, `at most one wake-up per record (${reader.stats.wakeups})`);
  } finally {
    reader.close();
    link.close();
  }
}));

t("on('data'): up to `batch` records per turn of the event loop, then other work runs; pause() stops the flow, resume() goes on", withEvents({ ringSize: 1 << 20 }, async (ev) => {
  const reader = new RingBufferReader(ev.ring, { batch: 256 });
  try {
    ev.run('ring_output', { count: 5000, size: 64 });
    const seqs: number[] = [];
    let otherWorkAt = -1;
    let pausedAt = -1;
    await new Promise<void>((resolve, reject) => {
      reader.on('error', reject);
      reader.on('data', (data) => {
        seqs.push(Number(data.readBigUInt64LE(0)));
        if (seqs.length === 1) setImmediate(() => { otherWorkAt = seqs.length; });
        if (seqs.length === 3000) {
          reader.pause();
          pausedAt = seqs.length;
          // Nothing is delivered while paused, even with records waiting and more arriving.
          ev.run('ring_output', { count: 100, size: 64 });
          setTimeout(() => {
            if (seqs.length !== pausedAt) reject(new Error(`${seqs.length - pausedAt} records while paused`));
            reader.resume();
          }, 50);
        }
        if (seqs.length === 5100) resolve();
      });
    });
    assert.ok(otherWorkAt > 0 && otherWorkAt <= 256 + 1, `a setImmediate ran after ${otherWorkAt} records (batch 256)`);
    assert.equal(seqs, Array.from({ length: 5100 }, (_, i) => i));
    assert.ok(reader.paused === false);
  } finally {
    reader.close();
  }
}));

t('for await does not starve the event loop: with records always there, timers still run every `batch` records', withEvents({ ringSize: 1 << 20 }, async (ev) => {
  const reader = new RingBufferReader(ev.ring, { batch: 256 });
  ev.run('ring_output', { count: 5000, size: 64 });
  let n = 0;
  let immediateAt = -1;
  let timerAt = -1;
  setTimeout(() => { timerAt = n; }, 0);
  for await (const data of reader) {
    assert.is(checkRecord(data, 64).seq, n);
    if (++n === 1) setImmediate(() => { immediateAt = n; });
    if (n === 5000) break;
  }
  assert.ok(immediateAt > 0 && immediateAt <= 257, `a setImmediate ran after ${immediateAt} records (batch 256)`);
  assert.ok(timerAt >= 0 && timerAt < 5000, `a timer ran after ${timerAt} records`);
}));

t('back-pressure: an iterator that is not pulled reads nothing; the ring fills and the producer drops, counted by the program', withEvents({ ringSize: 4096 }, async (ev) => {
  const reader = new RingBufferReader(ev.ring);
  try {
    const it = reader[Symbol.asyncIterator]();
    ev.run('ring_output', { count: 200, size: 56 });
    // 63 records of 64 bytes fit: the kernel keeps the ring from filling to the last byte.
    assert.is(ev.counters().ringDrops, 200 - 63);
    let n = 0;
    for (;;) {
      const r = await it.next();
      assert.is(r.done, false);
      assert.is(checkRecord(r.value!, 56).seq, n);
      if (++n === 63) break;
    }
    assert.is(reader.pending, 0);
    await it.return!();
  } finally {
    reader.close();
  }
}));

t('copy: false hands out views into the ring, valid in the callback; after close() a kept view reads zeros instead of crashing', withEvents({}, (ev) => {
  const reader = new RingBufferReader(ev.ring, { copy: false });
  ev.run('ring_output', { count: 3, size: 100 });
  const kept: Buffer[] = [];
  reader.consume((data) => {
    checkRecord(data, 100);
    kept.push(data);
  });
  assert.is(kept.length, 3);
  assert.ok(kept[0]!.buffer === kept[1]!.buffer, 'views of the same mapping, no copies');
  reader.close();
  assert.ok(kept.every((b) => b.every((x) => x === 0)), 'zeros after close');
}));

t('close() during a pending wait: next() resolves done, the wait is woken, and the process keeps nothing (fds, mappings)', withEvents({}, async (ev) => {
  assert.ok(await eventually(pollerIdle), 'no reader of an earlier test still waiting');
  const fds = openFdCount();
  const mappings = kernelMappings();
  const reader = new RingBufferReader(ev.ring);
  try {
    const it = reader[Symbol.asyncIterator]();
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 30));
    assert.is(openFdCount(), fds + 3, 'the map fd, the epoll set and its eventfd while waiting');
    assert.is(kernelMappings(), mappings + 2, 'the consumer page, and the producer page with the data');
    reader.close();
    const r = await pending;
    assert.is(r.done, true);
    assert.ok(await eventually(() => openFdCount() === fds), `fds back to ${fds} (now ${openFdCount()})`);
    assert.is(kernelMappings(), mappings, 'ring unmapped');
    assert.is((await it.next()).done, true, 'an ended iterator stays done');
  } finally {
    reader.close();
  }
}));

t('leaving a for-await loop releases everything', withEvents({}, async (ev) => {
  assert.ok(await eventually(pollerIdle));
  const fds = openFdCount();
  const mappings = kernelMappings();
  const reader = new RingBufferReader(ev.ring);
  ev.run('ring_output', { count: 10, size: 32 });
  let n = 0;
  for await (const data of reader) {
    checkRecord(data, 32);
    if (++n === 4) break;
  }
  assert.ok(reader.closed);
  assert.ok(await eventually(() => openFdCount() === fds), `fds back to ${fds} (now ${openFdCount()})`);
  assert.is(kernelMappings(), mappings);
}));

t('misuse: another map type (WRONG_KIND), use after close (CLOSED), two ways of reading at once (BUSY); lookup() points at the reader', withEvents({}, (ev) => {
  assert.throws(() => new RingBufferReader(ev.perf), usage('WRONG_KIND', /PERF_EVENT_ARRAY.*PerfBufferReader/));
  assert.throws(() => new RingBufferReader(ev.loaded.maps.get('scratch')!), usage('WRONG_KIND', /PERCPU_ARRAY map, not a RINGBUF/));
  assert.throws(() => ev.ring.lookup(Buffer.alloc(0)), usage('NOT_SUPPORTED', /ring buffer.*RingBufferReader/));
  assert.throws(() => [...ev.ring.keys()], usage('NOT_SUPPORTED', /RingBufferReader/));
  const fds = openFdCount();
  const reader = new RingBufferReader(ev.ring);
  reader[Symbol.asyncIterator]();
  assert.throws(() => reader.on('data', () => {}), usage('BUSY', /one way of reading/));
  assert.throws(() => reader[Symbol.asyncIterator](), usage('BUSY', /already has an async iterator/));
  assert.throws(() => reader.consume(() => {}), usage('BUSY', /iterator/));
  reader.close();
  reader.close();
  assert.throws(() => reader.consume(() => {}), usage('CLOSED', /ring buffer reader of map ring was used after close/));
  assert.throws(() => reader.resume(), usage('CLOSED', /after close/));
  assert.throws(() => reader[Symbol.asyncIterator](), usage('CLOSED', /after close/));
  assert.is(openFdCount(), fds, 'the failed constructors and the closed reader left no fd');
}));

t('the reader keeps its own fd: closing the map first does not stop it', async () => {
  const map = BpfMap.create({ name: 'own_rb', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 });
  const reader = new RingBufferReader(map);
  map.close();
  assert.is(reader.pending, 0);
  assert.is(reader.consume(() => {}), 0);
  reader.close();
});

t.run();
