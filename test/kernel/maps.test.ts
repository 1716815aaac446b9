// Map operations of issue 13 against the real kernel: batch lookup/update/delete and their
// element-by-element fallbacks (forced with overrideProbe), lookup-and-delete on hashes, queues and
// stacks, BPF_F_LOCK on a value with a bpf_spin_lock, per-CPU values in and out, keys() over a full
// hash while its keys are deleted, and typed maps (map.typed()) reading what a program wrote.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, BpfMap, BpfObject, MapType, UpdateFlag, UsageError, hasMapBatch, mapBatchProbeName, overrideProbe, withNarration } from '../../src/index.js';
import { possibleCpus } from '../../src/sys/cpus.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, fixture, removePinDir, tempPinDir } from './helpers.js';

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const hashOf = (maxEntries: number, type: number = MapType.HASH, valueSize = 8) => BpfMap.create({ name: 'test_batch', type, keySize: 4, valueSize, maxEntries, flags: 0 });
const OPS = ['lookup', 'lookup_and_delete', 'update', 'delete'] as const;

/** Run `fn` once with the kernel's batch commands and once with them reported missing for `type`. */
function bothWays(type: number, fn: (mode: string) => void): void {
  fn('batch');
  for (const op of OPS) overrideProbe(mapBatchProbeName(op, type), false);
  try {
    fn('fallback');
  } finally {
    for (const op of OPS) overrideProbe(mapBatchProbeName(op, type), undefined);
  }
}

const batch = suite('maps: batch operations');

batch('the kernel has batch ops for hash and array maps, not for queues (probed)', () => {
  assert.ok(hasMapBatch('lookup', { type: MapType.HASH, keySize: 4, valueSize: 8, flags: 0 }));
  assert.ok(hasMapBatch('update', { type: MapType.ARRAY, keySize: 4, valueSize: 8, flags: 0 }));
  assert.not.ok(hasMapBatch('lookup', { type: MapType.QUEUE, keySize: 0, valueSize: 4, flags: 0 }));
});

batch('updateBatch, entries, lookupBatch pages, deleteBatch, drain: same results by batch and element by element', () => {
  bothWays(MapType.HASH, (mode) => {
    const m = hashOf(300);
    try {
      const n = m.updateBatch(Array.from({ length: 300 }, (_, i) => [u32(i), u64(i * 10)] as const));
      assert.is(n, 300, mode);
      const all = new Map([...m.entries({ batchSize: 7 })].map(([k, v]) => [k.readUInt32LE(0), v.readBigUInt64LE(0)]));
      assert.is(all.size, 300, `${mode}: every entry once`);
      for (let i = 0; i < 300; i++) assert.is(all.get(i), BigInt(i * 10));
      // Pages: cursor to cursor, together every key once.
      const seen = new Set<number>();
      let page = m.lookupBatch({ count: 50 });
      for (let pages = 1; ; pages++) {
        for (const [k] of page.entries) seen.add(k.readUInt32LE(0));
        if (!page.next) break;
        assert.ok(pages < 100, 'pages end');
        page = m.lookupBatch({ count: 50, cursor: page.next });
      }
      assert.is(seen.size, 300, `${mode}: pages cover the map`);
      // Delete 100 present keys and 2 absent ones: 100 were there.
      const gone = [...Array.from({ length: 100 }, (_, i) => u32(i)), u32(5000), u32(5001)];
      assert.is(m.deleteBatch(gone), 100, mode);
      assert.is(m.count(), 200);
      assert.is(m.lookup(u32(50)), undefined);
      const drained = [...m.drain({ batchSize: 16 })];
      assert.is(drained.length, 200, `${mode}: drain takes everything`);
      assert.is(new Set(drained.map(([k]) => k.readUInt32LE(0))).size, 200);
      assert.is(m.count(), 0, `${mode}: and leaves it empty`);
    } finally {
      m.close();
    }
  });
});

batch('entries() of 1000 elements: one BPF_MAP_LOOKUP_BATCH by batch, 2N+1 syscalls element by element (counted)', () => {
  const m = hashOf(1000);
  try {
    m.updateBatch(Array.from({ length: 1000 }, (_, i) => [u32(i), u64(i)] as const));
    const calls: Record<string, number> = {};
    bothWays(MapType.HASH, (mode) => {
      hasMapBatch('lookup', m); // the probe, once per process, is not the walk's cost
      const lines: string[] = [];
      const n = withNarration((l) => lines.push(l), () => [...m.entries()].length);
      assert.is(n, 1000, mode);
      calls[mode] = lines.filter((l) => /\[map test_batch/.test(l)).length;
    });
    assert.equal(calls, { batch: 1, fallback: 2001 });
  } finally {
    m.close();
  }
});

batch('an update batch refused mid-way names the element; those before it are written', () => {
  bothWays(MapType.HASH, (mode) => {
    const m = hashOf(3);
    try {
      try {
        m.updateBatch([[u32(1), u64(1)], [u32(2), u64(2)], [u32(3), u64(3)], [u32(4), u64(4)], [u32(5), u64(5)]]);
        assert.unreachable(`${mode}: a fourth element in a 3-entry hash must fail`);
      } catch (e) {
        assert.instance(e, BpfError);
        assert.is((e as BpfError).code, 'E2BIG', mode);
        assert.match((e as Error).message, /element 3 of 5; the 3 before it were written/);
      }
      assert.is(m.count(), 3, `${mode}: the first three are in`);
      assert.is(m.lookup(u32(4)), undefined, `${mode}: the one after is not`);
      // NOEXIST (element by element: the kernel's batch takes no such flag) stops at a present key.
      m.delete(u32(3));
      try {
        m.updateBatch([[u32(3), u64(3)], [u32(1), u64(9)]], UpdateFlag.NOEXIST);
        assert.unreachable();
      } catch (e) {
        assert.is((e as BpfError).code, 'EEXIST', mode);
        assert.match((e as Error).message, /element 1 of 2/);
      }
      assert.is(m.lookup(u32(1))!.readBigUInt64LE(0), 1n, `${mode}: key 1 kept its value`);
    } finally {
      m.close();
    }
  });
});

batch('array maps: entries by batch and fallback; an array cannot be drained', () => {
  bothWays(MapType.ARRAY, (mode) => {
    const m = BpfMap.create({ name: 'test_arr', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 70, flags: 0 });
    try {
      m.updateBatch(Array.from({ length: 70 }, (_, i) => [u32(i), u64(i + 1)] as const));
      const es = [...m.entries({ batchSize: 9 })];
      assert.is(es.length, 70, mode);
      assert.equal(es.map(([k, v]) => [k.readUInt32LE(0), Number(v.readBigUInt64LE(0))]), Array.from({ length: 70 }, (_, i) => [i, i + 1]));
      try {
        [...m.drain()];
        assert.unreachable();
      } catch (e) {
        assert.instance(e, UsageError);
        assert.is((e as UsageError).code, 'NOT_SUPPORTED');
      }
    } finally {
      m.close();
    }
  });
});

const walk = suite('maps: keys() never truncates');

walk('a full hash: every key once, by batch and by GET_NEXT_KEY', () => {
  bothWays(MapType.HASH, (mode) => {
    const max = 2000;
    const m = hashOf(max);
    try {
      m.updateBatch(Array.from({ length: max }, (_, i) => [u32(i), u64(i)] as const));
      const keys = [...m.keys()].map((k) => k.readUInt32LE(0));
      assert.is(keys.length, max, `${mode}: all ${max} keys`);
      assert.is(new Set(keys).size, max, `${mode}: none twice`);
    } finally {
      m.close();
    }
  });
});

walk('a full hash while keys are deleted during the walk: no repeats, no error, every survivor met', () => {
  bothWays(MapType.HASH, (mode) => {
    const max = 1500;
    const m = hashOf(max);
    try {
      m.updateBatch(Array.from({ length: max }, (_, i) => [u32(i), u64(i)] as const));
      const met: number[] = [];
      const deleted = new Set<number>();
      const stats = { restarts: 0, skipped: 0 };
      let n = 0;
      for (const k of m.keys(stats)) {
        const key = k.readUInt32LE(0);
        met.push(key);
        // Every third key: delete it (the consumer deleting as it goes), the key after it in the
        // kernel's order (the one a GET_NEXT_KEY walk has in hand: it is then gone when the walk asks
        // for its successor, and the kernel restarts from the first key), and one elsewhere.
        if (n++ % 3 === 0) {
          const after = m.nextKey(k);
          m.delete(k);
          deleted.add(key);
          for (const other of [after?.readUInt32LE(0), (key * 7919 + 13) % max]) {
            if (other !== undefined && m.delete(u32(other))) deleted.add(other);
          }
        }
      }
      assert.is(new Set(met).size, met.length, `${mode}: no key twice (restarts: ${stats.restarts})`);
      const survivors = [...Array(max).keys()].filter((i) => !deleted.has(i));
      const metSet = new Set(met);
      assert.equal(survivors.filter((i) => !metSet.has(i)), [], `${mode}: every key still there was met`);
      assert.is(m.count(), survivors.length);
      if (mode === 'fallback') assert.ok(stats.restarts > 0, `the GET_NEXT_KEY walk met restarts (${stats.restarts}) and survived them`);
    } finally {
      m.close();
    }
  });
});

// A second process churns (deletes and re-adds) half the keys of a full hash while we walk it.
const CHURN = `
import { BpfMap } from ${JSON.stringify(join(REPO, 'dist', 'src', 'index.js'))};
const m = BpfMap.fromPin(process.argv[1]);
const half = Number(process.argv[2]);
const key = Buffer.alloc(4), value = Buffer.alloc(8);
const end = Date.now() + 20000;
let ops = 0;
process.stdout.write('ready\\n');
while (Date.now() < end) {
  const k = (ops * 7919) % half;
  key.writeUInt32LE(k);
  m.delete(key);
  try { m.update(key, value); } catch {}
  ops++;
}
`;

walk('a full hash while another process deletes and re-adds keys: every untouched key once, no repeats, no error', async () => {
  const max = 2000;
  const half = 1000;
  const dir = tempPinDir('walk');
  const m = hashOf(max);
  const pin = `${dir}/churn`;
  m.pin(pin);
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHURN, pin, String(half)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    m.updateBatch(Array.from({ length: max }, (_, i) => [u32(i), u64(i)] as const));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the churning child exited (${code}) before it started`)));
    });
    let walks = 0;
    bothWays(MapType.HASH, (mode) => {
      for (let round = 0; round < 15; round++, walks++) {
        const stats = { restarts: 0, skipped: 0 };
        const keys = [...m.keys(stats)].map((k) => k.readUInt32LE(0));
        assert.is(new Set(keys).size, keys.length, `${mode}: no key twice (round ${round}, ${stats.restarts} restarts)`);
        const met = new Set(keys);
        const missing = [...Array(max - half).keys()].map((i) => i + half).filter((k) => !met.has(k));
        assert.equal(missing, [], `${mode}: every key the other process never touches is met (round ${round})`);
      }
    });
    assert.is(child.exitCode, null, 'the churn ran during all the walks');
    assert.is(walks, 30);
  } finally {
    child.kill();
    m.close();
    removePinDir(dir);
  }
});

const obj = suite('maps: lookup-and-delete, F_LOCK, per-CPU, typed (typed_maps.bpf.o)');
const PACKET = Buffer.alloc(64, 0);

obj('queues pop FIFO, stacks LIFO, peek leaves the value; a hash lookupAndDelete takes the element out', () => {
  const loaded = BpfObject.open(fixture('typed_maps.bpf.o')).load();
  try {
    const fifo = loaded.maps.get('fifo')!;
    const lifo = loaded.maps.get('lifo')!;
    for (const i of [1, 2, 3]) { fifo.push(u32(i)); lifo.push(u64(i)); }
    assert.is(fifo.peek()!.readUInt32LE(0), 1);
    assert.equal([fifo.pop(), fifo.pop(), fifo.pop()].map((b) => b!.readUInt32LE(0)), [1, 2, 3]);
    assert.is(fifo.pop(), undefined, 'an empty queue pops undefined');
    assert.equal([lifo.pop(), lifo.pop(), lifo.pop()].map((b) => Number(b!.readBigUInt64LE(0))), [3, 2, 1]);
    // Pushing into a full queue fails; with EXIST it drops the oldest.
    for (let i = 0; i < 8; i++) fifo.push(u32(i));
    assert.throws(() => fifo.push(u32(99)), (e: unknown) => e instanceof BpfError && e.code === 'E2BIG');
    fifo.push(u32(99), UpdateFlag.EXIST);
    assert.is(fifo.pop()!.readUInt32LE(0), 1, 'the oldest (0) was dropped');
    assert.is([...fifo.drain()].length, 7);
    assert.throws(() => loaded.maps.get('per_cpu')!.pop(), (e: unknown) => e instanceof UsageError && e.code === 'WRONG_KIND');
    const per = loaded.maps.get('per_cpu')!;
    per.updatePerCpu(u32(5), Array.from({ length: possibleCpus() }, (_, i) => u32(100 + i)));
    const taken = per.lookupAndDelete(u32(5))!;
    assert.is(taken.readUInt32LE(0), 100);
    assert.is(per.lookup(u32(5)), undefined, 'gone after lookupAndDelete');
    assert.is(per.lookupAndDelete(u32(5)), undefined, 'absent: undefined');
  } finally {
    loaded.close();
  }
});

obj('BPF_F_LOCK: update and lookup under the value\'s bpf_spin_lock; refused with a hint on a map without one', () => {
  const loaded = BpfObject.open(fixture('typed_maps.bpf.o')).load();
  try {
    const guarded = loaded.maps.get('guarded')!;
    const v = Buffer.alloc(16);
    v.writeUInt32LE(7, 4);
    v.writeBigUInt64LE(9n, 8);
    guarded.update(u32(0), v, UpdateFlag.LOCK);
    const got = guarded.lookup(u32(0), { lock: true })!;
    assert.is(got.readUInt32LE(4), 7);
    assert.is(got.readBigUInt64LE(8), 9n);
    // The program takes the lock and bumps `a`.
    loaded.programs.get('touch')!.testRun({ data: PACKET });
    const typed = guarded.typed<number, { a: number; b: bigint }>();
    assert.equal(typed.get(0, { lock: true }), { a: 8, b: 9n });
    typed.set(0, { a: 1, b: 2n }, UpdateFlag.LOCK | UpdateFlag.EXIST);
    assert.equal([...typed.entries({ lock: true })], [[0, { a: 1, b: 2n }]]);
    assert.equal(typed.lookupAndDelete(0, { lock: true }), { a: 1, b: 2n });
    const flows = loaded.maps.get('per_cpu')!;
    try {
      flows.lookup(u32(0), { lock: true });
      assert.unreachable('F_LOCK on a value without a spin lock');
    } catch (e) {
      assert.instance(e, BpfError);
      assert.is((e as BpfError).code, 'EINVAL');
      assert.match((e as BpfError).hint ?? '', /bpf_spin_lock/);
    }
  } finally {
    loaded.close();
  }
});

obj('per-CPU values in and out: one value per possible CPU, and the program\'s write on its CPU', () => {
  const loaded = BpfObject.open(fixture('typed_maps.bpf.o')).load();
  try {
    const cpus = possibleCpus();
    const per = loaded.maps.get('per_cpu')!;
    per.updatePerCpu(u32(0), Array.from({ length: cpus }, (_, i) => u32(10 * (i + 1))));
    assert.equal(per.lookupPerCpu(u32(0))!.map((b) => b.readUInt32LE(0)), Array.from({ length: cpus }, (_, i) => 10 * (i + 1)));
    loaded.programs.get('touch')!.testRun({ data: PACKET });
    const after = per.typed<number, number[]>().get(0)!;
    assert.is(after.length, cpus);
    assert.is(after.reduce((a, b) => a + b, 0), Array.from({ length: cpus }, (_, i) => 10 * (i + 1)).reduce((a, b) => a + b, 0) + 1, 'the program added one on the CPU it ran on');
    assert.throws(() => per.updatePerCpu(u32(1), [u32(1)]), (e: unknown) => e instanceof UsageError && /one Buffer per possible CPU/.test((e as Error).message));
    const arr = loaded.maps.get('per_cpu_arr')!.typed<number, { ip: number; port: number; pad: number }[]>();
    arr.set(2, Array.from({ length: cpus }, (_, i) => ({ ip: i, port: 1, pad: 0 })));
    assert.equal(arr.get(2)!.map((a) => a.ip), Array.from({ length: cpus }, (_, i) => i));
    // The program wrote port = want (PROTO_TCP, 6) into slot 0 on its CPU.
    assert.ok(arr.get(0)!.some((a) => a.port === 6));
    // Batch walks of a per-CPU map carry every CPU's slot.
    const es = [...per.entries()];
    assert.is(es[0]![1].length, 8 * cpus);
  } finally {
    loaded.close();
  }
});

obj('typed(): struct keys and values, globals, and a map reopened by its pin reads the kernel\'s BTF', () => {
  const o = BpfObject.open(fixture('typed_maps.bpf.o'));
  o.setGlobal('magic', 0x40);
  const loaded = o.load();
  try {
    const flows = loaded.maps.get('flows')!.typed();
    const key = { src: { ip: 1, port: 2, pad: 0 }, dst: { ip: 3, port: 4, pad: 0 }, proto: 'PROTO_TCP', ipv6: 0, dscp: 0, ttl: 0, spare: 0, ifname: '', cookie: 0n };
    flows.set(key, { packets: 41n, delta: 0, hist: [0, 0, 0], seen: false, tag: { as_u32: 0 }, verdict: 'V_DROP' });
    // The program looks up the all-zero flow: make it that one.
    const zero = { ...key, src: { ip: 0, port: 0, pad: 0 }, dst: { ip: 0, port: 0, pad: 0 }, proto: 0 };
    flows.set(zero, { packets: 1n, delta: 0, hist: [0, 0, 0], seen: true, tag: { as_u32: 0 }, verdict: 'V_PASS' });
    assert.is(loaded.programs.get('touch')!.testRun({ data: PACKET }).retval, 0x40 + 1);
    assert.equal((flows.get(zero) as { packets: bigint }).packets, 2n, 'the program counted the packet');
    assert.equal((flows.get(key) as { verdict: string }).verdict, 'V_DROP');
    assert.equal(loaded.maps.get('.bss')!.typed().get(0), { hits: 1n });
    assert.equal(loaded.maps.get('.rodata')!.typed().get(0), { magic: 0x40, want: 'PROTO_TCP' });
    // The same map by fd: types from the BTF object the kernel kept.
    const again = BpfMap.fromFd(loaded.maps.get('flows')!.fd.dup()).typed();
    try {
      assert.is([...again.keys()].length, 2);
      assert.equal((again.get(key) as { packets: bigint }).packets, 41n);
    } finally {
      again.map.close();
    }
    try {
      flows.set({ ...key, proto: 'PROTO_SCTP' }, { packets: 0n, delta: 0, hist: [0, 0, 0], seen: false, tag: { as_u32: 0 }, verdict: 0 });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, /^map flows \(HASH\): key\.proto must be one of PROTO_TCP, PROTO_UDP \(enum proto\)/);
    }
    // A map created without BTF has no types.
    const raw = hashOf(4);
    try {
      assert.throws(() => raw.typed(), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /no BTF type for its key/.test((e as Error).message));
    } finally {
      raw.close();
    }
  } finally {
    loaded.close();
  }
});

batch.run();
walk.run();
obj.run();
