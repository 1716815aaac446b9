// PerfBufferReader on the real kernel: the events fixture's perf_output program, run with
// BPF_PROG_TEST_RUN on a chosen CPU (BPF_F_TEST_RUN_ON_CPU), writes into that CPU's ring. Samples
// arrive once, in order per CPU, with their CPU and bytes; records that wrap are put together;
// a full ring loses samples and the reader reports exactly how many; a map smaller than the CPU
// count is covered as far as it goes, and says so; close and break leave nothing behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, MapType, PerfBufferReader, UsageError, type PerfSample } from '../../src/index.js';
import { LazyBtf } from '../../src/btf/lazy.js';
import { BtfKind, type BtfComposite } from '../../src/btf/kinds.js';
import { onlineCpuList } from '../../src/sys/cpus.js';
import { PerfAttrFlag, PerfRecordType, PerfSampleFormat, PerfSwConfig, PERF_ATTR_FLAGS_OFFSET } from '../../src/uapi/perf.js';
import { skipIf } from '../support/skip.js';
import { findTool } from '../support/tools.js';
import { checkRecord, eventually, kernelMappings, loadEvents, openFdCount, withEvents, pollerIdle, sizeOf } from './events-fixture.js';
import { REPO } from './helpers.js';

const t = suite('perf buffer reader');
const online = onlineCpuList();
const multi = skipIf(t, online.length >= 2 ? undefined : `needs 2 online CPUs (this machine has ${online.join(',')})`);

const usage = (code: string, re: RegExp) => (e: unknown) => e instanceof UsageError && e.code === code && re.test(e.message + ' ' + (e.hint ?? ''));

/** A raw sample's length as the kernel pads it: u32 size + data, rounded to 8. */
const padded = (n: number) => ((n + 4 + 7) & ~7) - 4;


const VMLINUX = '/sys/kernel/btf/vmlinux';
skipIf(t, existsSync(VMLINUX) ? undefined : `${VMLINUX} is missing: nothing to compare against`)('the perf constants and the watermark bit are the kernel\'s (BTF)', () => {
  const btf = LazyBtf.read(VMLINUX);
  const enumValue = (name: string): number | undefined => {
    for (let id = 1; id < btf.count; id++) {
      if (btf.kindOf(id) !== BtfKind.ENUM) continue;
      const v = (btf.type(id) as { values: { name: string; value: number }[] }).values.find((x) => x.name === name);
      if (v) return v.value >>> 0;
    }
    return undefined;
  };
  assert.is(enumValue('PERF_COUNT_SW_BPF_OUTPUT'), PerfSwConfig.BPF_OUTPUT);
  assert.is(enumValue('PERF_SAMPLE_RAW'), PerfSampleFormat.RAW);
  assert.is(enumValue('PERF_RECORD_SAMPLE'), PerfRecordType.SAMPLE);
  assert.is(enumValue('PERF_RECORD_LOST'), PerfRecordType.LOST);
  const attr = btf.type(btf.idsByEssentialName('perf_event_attr').find((i) => btf.kindOf(i) === BtfKind.STRUCT)!) as BtfComposite;
  const watermark = attr.members.find((m) => m.name === 'watermark')!;
  assert.is(watermark.bitOffset, PERF_ATTR_FLAGS_OFFSET * 8 + Math.log2(PerfAttrFlag.WATERMARK));
  assert.is(watermark.bitfieldSize, 1);
});

multi('each CPU\'s samples arrive once, in order, with their CPU and bytes (raw size padded to 8), through on(\'data\')', withEvents({}, async (ev) => {
  const reader = new PerfBufferReader(ev.perf, { pages: 4 });
  try {
    assert.equal(reader.cpus, online.filter((c) => c < 64));
    const got = new Map<number, number[]>();
    const done = new Promise<void>((resolve, reject) => {
      reader.on('error', reject);
      let n = 0;
      reader.on('data', (data, cpu) => {
        try {
          const head = checkRecord(data, 40, cpu);
          assert.is(data.length, padded(40));
          (got.get(cpu) ?? got.set(cpu, []).get(cpu)!).push(head.seq);
        } catch (e) {
          reject(e);
        }
        if (++n === 200) resolve();
      });
    });
    // 50 samples on CPU 0, 50 on CPU 1, twice: seq 0-49 and 100-149 on CPU 0, 50-99 and 150-199 on CPU 1.
    setImmediate(() => {
      for (let round = 0; round < 2; round++) {
        ev.run('perf_output', { count: 50, size: 40, cpu: 0 });
        ev.run('perf_output', { count: 50, size: 40, cpu: 1 });
      }
    });
    await done;
    const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    assert.equal(got.get(0), [...range(0, 50), ...range(100, 50)]);
    assert.equal(got.get(1), [...range(50, 50), ...range(150, 50)]);
    assert.is(reader.stats.lost, 0);
    assert.is(ev.counters().perfDrops, 0);
  } finally {
    reader.close();
  }
}));

t('records that wrap around the end of a one-page ring are put together, byte for byte (consume)', withEvents({}, (ev) => {
  const reader = new PerfBufferReader(ev.perf, { pages: 1, cpus: [0] });
  try {
    assert.is(reader.ringSize, 4096);
    let expected = 0;
    let bytes = 0;
    for (let round = 0; round < 100; round++) {
      ev.run('perf_output', { count: 3, size: 16, step: 331, span: 1000, cpu: 0 });
      reader.consume((data, cpu) => {
        assert.is(cpu, 0);
        const size = sizeOf(expected, 16, 331, 1000);
        assert.is(checkRecord(data, size, 0).seq, expected);
        assert.is(data.length, padded(size));
        bytes += data.length + 12;
        expected++;
      });
    }
    assert.is(expected, 300);
    assert.ok(bytes > 30 * 4096, 'the ring turned many times');
  } finally {
    reader.close();
  }
}));

t('a full ring loses samples: the reader reports exactly as many as the program failed to write, with their CPU', withEvents({}, (ev) => {
  const reader = new PerfBufferReader(ev.perf, { pages: 1, cpus: [0] });
  try {
    const lostEvents: [number, number][] = [];
    reader.on('lost', (count, cpu) => lostEvents.push([count, cpu]));
    ev.run('perf_output', { count: 1000, size: 52, cpu: 0 });
    const drops = ev.counters().perfDrops;
    assert.ok(drops > 900, `the one-page ring overflowed (${drops} dropped)`);
    let received = reader.consume((data) => checkRecord(data, 52, 0));
    assert.is(received, 1000 - drops);
    // The kernel writes the LOST record with the next sample that fits.
    ev.run('perf_output', { count: 1, size: 52, cpu: 0 });
    received += reader.consume((data) => checkRecord(data, 52, 0));
    assert.is(received, 1000 - drops + 1);
    assert.is(reader.stats.lost, drops);
    assert.is(reader.lostOn(0), drops);
    assert.is(reader.lostOn(1), 0);
    assert.equal(lostEvents, [[drops, 0]]);
  } finally {
    reader.close();
  }
}));

multi('a map with fewer slots than CPUs: the reader covers what fits and says which CPU it does not', async () => {
  const small = BpfMap.create({ name: 'perf_one', type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 });
  const ev = loadEvents({ perfMap: small });
  try {
    const reader = new PerfBufferReader(ev.perf);
    try {
      assert.equal(reader.cpus, [0]);
      assert.ok(reader.uncovered.some((u) => u.cpu === 1 && u.reason === 'beyond max_entries'));
      ev.run('perf_output', { count: 5, size: 24, cpu: 1 });
      assert.is(ev.counters().perfDrops, 5, 'no perf event for CPU 1: the program\'s output fails');
      ev.run('perf_output', { count: 5, size: 24, cpu: 0 });
      assert.is(reader.consume((data, cpu) => { assert.is(cpu, 0); checkRecord(data, 24, 0); }), 5);
      assert.throws(() => new PerfBufferReader(ev.perf, { cpus: [1] }), usage('BAD_ARGUMENT', /CPU 1 has no slot in the map \(max_entries 1\)/));
    } finally {
      reader.close();
    }
  } finally {
    ev.close();
    small.close();
  }
});

t('watermark: no wake-up before that many bytes are in the ring, then everything at once', withEvents({}, async (ev) => {
  const reader = new PerfBufferReader(ev.perf, { pages: 2, watermark: 2048, cpus: [0] });
  try {
    const got: PerfSample['data'][] = [];
    reader.on('data', (data) => got.push(Buffer.from(data)));
    await new Promise((r) => setTimeout(r, 20));
    ev.run('perf_output', { count: 10, size: 60, cpu: 0 }); // 10 × 72 bytes: under the watermark
    await new Promise((r) => setTimeout(r, 100));
    // Wake-ups, not records: on a slow machine (TCG) the reader's first look at the ring may come
    // after this run and find the 10 records without being woken, which is no wake-up either.
    assert.is(reader.stats.wakeups, 0, `not woken below the watermark (${got.length} records read without a wake-up)`);
    ev.run('perf_output', { count: 30, size: 60, cpu: 0 });
    assert.ok(await eventually(() => got.length === 40), `all 40 once past it (got ${got.length})`);
    assert.ok(reader.stats.wakeups >= 1, 'woken past the watermark');
    assert.equal(got.map((d) => checkRecord(d, 60, 0).seq), Array.from({ length: 40 }, (_, i) => i));
  } finally {
    reader.close();
  }
}));

t('the async iterator yields { cpu, data }; close() during its wait ends it; the map slots are emptied and nothing is left open', withEvents({}, async (ev) => {
  assert.ok(await eventually(pollerIdle), 'no reader of an earlier test still waiting');
  const fds = openFdCount();
  const mappings = kernelMappings();
  const reader = new PerfBufferReader(ev.perf, { pages: 1 });
  try {
    assert.is(openFdCount(), fds + 1 + reader.cpus.length + 2, 'the map fd, one perf event per CPU, the epoll set and its eventfd');
    assert.is(kernelMappings(), mappings + reader.cpus.length);
    const it = reader[Symbol.asyncIterator]();
    setTimeout(() => ev.run('perf_output', { count: 2, size: 30, cpu: 0 }), 20);
    const a = await it.next();
    const b = await it.next();
    assert.equal([a.value!.cpu, b.value!.cpu], [0, 0]);
    assert.equal([checkRecord(a.value!.data, 30).seq, checkRecord(b.value!.data, 30).seq], [0, 1]);
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 20));
    reader.close();
    assert.is((await pending).done, true);
    assert.ok(await eventually(() => openFdCount() === fds), `fds back to ${fds} (now ${openFdCount()})`);
    assert.is(kernelMappings(), mappings);
    ev.run('perf_output', { count: 3, size: 30, cpu: 0 });
    assert.is(ev.counters().perfDrops, 3, 'our perf events were taken out of the map');
  } finally {
    reader.close();
  }
}));

t('breaking out of for-await closes the reader', withEvents({}, async (ev) => {
  const reader = new PerfBufferReader(ev.perf, { pages: 1, cpus: [0] });
  ev.run('perf_output', { count: 5, size: 30, cpu: 0 });
  let n = 0;
  for await (const { cpu, data } of reader) {
    assert.is(cpu, 0);
    checkRecord(data, 30, 0);
    if (++n === 2) break;
  }
  assert.ok(reader.closed);
  assert.throws(() => reader.consume(() => {}), usage('CLOSED', /perf buffer reader of map perf was used after close/));
}));

const setpriv = findTool('setpriv');
skipIf(t, setpriv ? undefined : 'setpriv (util-linux) is not installed')('without CAP_PERFMON: a BpfError from perf_event_open with its errno and a hint naming the capability and perf_event_paranoid', withEvents({}, (ev) => {
  // A child that is root but has no capabilities, given our map's fd as its fd 3.
  const child = `
    const { Fd, PerfBufferReader } = await import(${JSON.stringify(join(REPO, 'dist', 'src', 'index.js'))});
    try { new PerfBufferReader({ fd: new Fd(3), name: 'perf' }); console.log('{}'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, op: e.op, code: e.code, errno: e.errno, message: e.message, hint: e.hint })); }`;
  const r = spawnSync(setpriv!, ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--', process.execPath, '--input-type=module', '-e', child], {
    stdio: ['ignore', 'pipe', 'pipe', ev.perf.fd.value], encoding: 'utf8', timeout: 30_000,
  });
  assert.is(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; op: string; code: string; errno: number; hint: string };
  assert.is(err.name, 'BpfError', JSON.stringify(err));
  assert.is(err.op, 'perf_event_open');
  assert.ok(err.code === 'EACCES' || err.code === 'EPERM', err.code);
  assert.match(err.hint, /CAP_PERFMON/);
  assert.match(err.hint, /perf_event_paranoid is 0 or less \(it is -?\d+\)/);
}));

t('misuse: a ring buffer map (WRONG_KIND), bad pages / watermark (BAD_ARGUMENT); lookup() on a perf event array points at the reader', withEvents({}, (ev) => {
  const fds = openFdCount();
  assert.throws(() => new PerfBufferReader(ev.ring), usage('WRONG_KIND', /RINGBUF map, not a PERF_EVENT_ARRAY.*RingBufferReader/));
  assert.throws(() => new PerfBufferReader(ev.perf, { pages: 3 }), usage('BAD_ARGUMENT', /power of 2/));
  assert.throws(() => new PerfBufferReader(ev.perf, { watermark: 1 << 20 }), usage('BAD_ARGUMENT', /watermark/));
  assert.throws(() => new PerfBufferReader(ev.perf, { watermark: 100, wakeupEvents: 2 }), usage('BAD_ARGUMENT', /not both/));
  assert.throws(() => ev.perf.lookup(Buffer.alloc(4)), usage('NOT_SUPPORTED', /PerfBufferReader/));
  assert.is(openFdCount(), fds, 'refused readers leave no fd');
}));

t.run();
