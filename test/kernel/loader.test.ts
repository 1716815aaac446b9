// The loader against the real kernel: every fixture loads, runs with testRun, and its maps read
// back what the programs wrote. Needs root (this machine and CI are).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, BpfMap, BpfObject, BpfProgram, MapType, UsageError } from '../../src/index.js';
import { fixture, openFds, removePinDir, tempPinDir } from './helpers.js';

const PACKET = Buffer.alloc(64, 0xab);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };

const globals = suite('loader: globals');

globals('setGlobal changes .rodata before load; .data and .bss start as compiled', () => {
  const obj = BpfObject.open(fixture('globals.bpf.o'));
  obj.setGlobal('magic', 0x4321).setGlobal('multiplier', 10n);
  const loaded = obj.load();
  try {
    const prog = loaded.programs.get('read_globals')!;
    const first = prog.testRun({ data: PACKET });
    assert.is(first.retval, 0x4321, 'the program returns the .rodata value we set');
    const results = loaded.maps.get('results')!;
    const slot = (i: number) => results.lookup(u32(i))!.readBigUInt64LE(0);
    assert.is(slot(0), 0x4321n);
    assert.is(slot(1), 101n, '.data counter incremented from its compiled 100');
    assert.is(slot(2), 1n, '.bss runs incremented from 0');
    assert.is(slot(3), 30n, 'multiplier * 3 with multiplier set to 10');
    assert.is(slot(4), 5n, 'a u8 in .data');
    assert.is(slot(6), 42n, 'a static .data variable reached through the section symbol');
    prog.testRun({ data: PACKET });
    assert.is(slot(1), 102n, 'state in .data persists between runs');
    // The .bss map is readable from userspace under its section name.
    const bss = loaded.maps.get('.bss')!;
    const runs = obj.globals.get('runs')!;
    assert.is(bss.lookup(u32(0))!.readBigUInt64LE(runs.offset), 2n);
  } finally {
    loaded.close();
  }
});

globals('.rodata is frozen: userspace can no longer change it', () => {
  const loaded = BpfObject.open(fixture('globals.bpf.o')).load();
  try {
    const rodata = loaded.maps.get('.rodata')!;
    assert.ok(rodata, 'the .rodata map is there under its section name');
    const value = rodata.lookup(u32(0))!;
    try {
      rodata.update(u32(0), value);
      assert.unreachable('update of a frozen map must fail');
    } catch (e) {
      assert.instance(e, BpfError);
      assert.is((e as BpfError).code, 'EPERM');
    }
  } finally {
    loaded.close();
  }
});

globals('setGlobal refuses unknown names and values that do not fit', () => {
  const obj = BpfObject.open(fixture('globals.bpf.o'));
  assert.throws(() => obj.setGlobal('nope', 1), /nope/);
  assert.throws(() => obj.setGlobal('small', 300), /small/);
});
globals.run();

const calls = suite('loader: bpf-to-bpf calls');

/** calls.bpf.o without calls_loop (its bpf_loop callback is tested on its own). */
function callsWithoutCallback(): BpfObject {
  const obj = BpfObject.open(fixture('calls.bpf.o'));
  obj.programs.delete('calls_loop');
  return obj;
}

calls('subprograms are appended and calls resolved: each program returns what its C computes', () => {
  const loaded = callsWithoutCallback().load();
  try {
    assert.is(loaded.programs.get('calls_first')!.testRun({ data: PACKET }).retval, 25);
    assert.is(loaded.programs.get('calls_second')!.testRun({ data: PACKET }).retval, 32);
    assert.not.ok(loaded.programs.has('calls_loop'), 'a program removed from the spec is not loaded');
  } finally {
    loaded.close();
  }
});

calls('a bpf_loop callback loads with BTF func_info and runs: calls_loop returns 1045', () => {
  const loaded = BpfObject.open(fixture('calls.bpf.o')).load();
  try {
    assert.is(loaded.programs.get('calls_loop')!.testRun({ data: PACKET }).retval, 1045, 'sum of 0..9 by the callback, plus 1000');
    assert.is(loaded.programs.get('calls_first')!.testRun({ data: PACKET }).retval, 25);
  } finally {
    loaded.close();
  }
});

calls.run();

const maps = suite('loader: maps');

maps('every map kind is created as the object declares it', () => {
  const obj = BpfObject.open(fixture('maps.bpf.o'));
  const dir = tempPinDir('maps');
  let loaded: ReturnType<BpfObject['load']> | undefined;
  try {
    loaded = obj.load({ pinMaps: dir });
    for (const [name, spec] of obj.maps) {
      const info = loaded.maps.get(name)!.info();
      assert.is(info.type, spec.type, `${name} type`);
      assert.is(info.keySize, spec.keySize, `${name} key size`);
      assert.is(info.valueSize, spec.valueSize, `${name} value size`);
      assert.is(info.maxEntries, spec.maxEntries, `${name} max entries`);
    }
    assert.is(loaded.maps.get('flows')!.info().keySize, 12);
    assert.is(loaded.maps.get('flows')!.info().valueSize, 24);
    assert.is(loaded.maps.get('sock_hash')!.info().type, MapType.SOCKHASH);
    assert.is(loaded.maps.get('outer')!.info().type, MapType.ARRAY_OF_MAPS);
    // The program bumps counters[0] once per run and returns a bitmask of the lookups that hit:
    // with fresh maps only percpu_stats (an array, always present) hits → 2.
    const prog = loaded.programs.get('count_packets')!;
    assert.is(prog.testRun({ data: PACKET }).retval, 2);
    loaded.maps.get('flows')!.update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), Buffer.alloc(24));
    assert.is(prog.testRun({ data: PACKET }).retval, 3, 'an entry written from userspace is seen by the program');
    assert.is(loaded.maps.get('counters')!.lookup(u32(0))!.readBigUInt64LE(0), 2n);
  } finally {
    loaded?.close();
    removePinDir(dir);
  }
});

maps('lookup, update, delete, keys, entries, per-CPU values', () => {
  const dir = tempPinDir('api');
  let loaded: ReturnType<BpfObject['load']> | undefined;
  try {
    loaded = BpfObject.open(fixture('maps.bpf.o')).load({ pinMaps: dir });
    const lru = loaded.maps.get('lru_cache')!;
    lru.update(u64(1), u32(11));
    lru.update(u64(2), u32(22));
    assert.equal(lru.lookup(u64(2)), u32(22));
    assert.is(lru.lookup(u64(3)), undefined);
    assert.equal(new Set([...lru.keys()].map((k) => k.readBigUInt64LE(0))), new Set([1n, 2n]));
    assert.equal([...lru.entries()].map(([, v]) => v.readUInt32LE(0)).sort(), [11, 22]);
    assert.is(lru.delete(u64(1)), true);
    assert.is(lru.delete(u64(1)), false);
    assert.is(lru.count(), 1);
    assert.throws(() => lru.lookup(u32(1)), /lru_cache.*8 bytes/);
    const percpu = loaded.maps.get('percpu_stats')!;
    const slots = percpu.lookupPerCpu(u32(0))!;
    assert.ok(slots.length >= 1);
    assert.is(slots[0].length, 24);
  } finally {
    loaded?.close();
    removePinDir(dir);
  }
});

maps('pin, reopen from the pin, and reuse pinned maps on the next load', () => {
  const dir = tempPinDir('reuse');
  try {
    const a = BpfObject.open(fixture('maps.bpf.o')).load({ pinMaps: dir });
    const idA = a.maps.get('counters')!.info().id;
    a.maps.get('counters')!.update(u32(1), u64(77));
    a.close();
    assert.ok(existsSync(`${dir}/counters`), 'pinned under its name');
    const reopened = BpfMap.fromPin(`${dir}/counters`);
    assert.is(reopened.info().id, idA);
    assert.is(reopened.lookup(u32(1))!.readBigUInt64LE(0), 77n);
    reopened.close();
    const b = BpfObject.open(fixture('maps.bpf.o')).load({ pinMaps: dir });
    assert.is(b.maps.get('counters')!.info().id, idA, 'the second load reuses the pinned map');
    b.close();
    // A spec that disagrees with the pin is refused, naming the map and the field.
    const c = BpfObject.open(fixture('maps.bpf.o'));
    c.maps.get('counters')!.maxEntries = 5;
    try {
      c.load({ pinMaps: dir });
      assert.unreachable('a mismatching pinned map must be refused');
    } catch (e) {
      assert.instance(e, UsageError);
      assert.is((e as UsageError).code, 'MISMATCH');
      assert.match((e as Error).message, /counters/);
      assert.match((e as Error).message, /max entries 4 pinned vs 5/);
    }
  } finally {
    removePinDir(dir);
  }
});

maps('maps: { name: BpfMap } uses an existing map instead of creating one', () => {
  const dir = tempPinDir('given');
  const dir2 = tempPinDir('given2');
  try {
    const a = BpfObject.open(fixture('maps.bpf.o')).load({ pinMaps: dir });
    const given = a.maps.get('counters')!;
    const b = BpfObject.open(fixture('maps.bpf.o')).load({ maps: { counters: given }, pinMaps: dir2 });
    b.programs.get('count_packets')!.testRun({ data: PACKET });
    assert.is(given.lookup(u32(0))!.readBigUInt64LE(0), 1n, 'the second object wrote into the given map');
    b.close();
    assert.is(given.info().maxEntries, 4, 'a given map stays open after the borrower closes');
    a.close();
  } finally {
    removePinDir(dir);
    removePinDir(dir2);
  }
});

maps('legacy maps section', () => {
  const loaded = BpfObject.open(fixture('legacy_maps.bpf.o')).load();
  try {
    assert.is(loaded.programs.get('legacy_lookup')!.testRun({ data: PACKET }).retval, 2);
    assert.is(loaded.maps.get('legacy_array')!.lookup(u32(0))!.readBigUInt64LE(0), 1n);
    assert.is(loaded.maps.get('legacy_hash')!.info().valueSize, 4);
  } finally {
    loaded.close();
  }
});
maps.run();

const programs = suite('loader: programs and errors');

programs('program info, pin and reopen, testRun on the reopened program', () => {
  const dir = tempPinDir('prog');
  const loaded = callsWithoutCallback().load();
  try {
    const p = loaded.programs.get('calls_first')!;
    const info = p.info();
    assert.is(info.name, 'calls_first');
    assert.ok(info.id > 0);
    p.pin(`${dir}/calls_first`);
    const again = BpfProgram.fromPin(`${dir}/calls_first`);
    assert.is(again.info().id, info.id);
    assert.is(again.testRun({ data: PACKET }).retval, 25);
    again.close();
  } finally {
    loaded.close();
    removePinDir(dir);
  }
});

programs('pinning outside bpffs is refused with a clear error', () => {
  const loaded = callsWithoutCallback().load();
  try {
    assert.throws(() => loaded.programs.get('calls_first')!.pin('/tmp/not-bpffs/x'), /not on a bpffs mount/);
  } finally {
    loaded.close();
  }
});

programs('a dotted pin name is refused before the kernel sees it, in an existing directory and in a new one', () => {
  const loaded = callsWithoutCallback().load();
  const dir = tempPinDir('dots');
  try {
    const prog = loaded.programs.get('calls_first')!;
    prog.pin(join(dir, 'first')); // creates the directory (the mount-table path)
    // The directory exists on bpffs now (the statfs path): the new name alone is checked.
    assert.throws(() => prog.pin(join(dir, 'second.v1')), /bpffs refuses names with a dot \("second\.v1"\)/);
    assert.throws(() => prog.pin(join(dir, 'sub.d', 'third')), /bpffs refuses names with a dot \("sub\.d"\)/);
    assert.equal(readdirSync(dir), ['first'], 'nothing else was created');
  } finally {
    loaded.close();
    removePinDir(dir);
  }
});

programs('a refused program: BpfError with the program name, the verdict and the log tail', () => {
  try {
    BpfObject.open(fixture('verifier_reject.bpf.o')).load();
    assert.unreachable('the verifier must refuse it');
  } catch (e) {
    assert.instance(e, BpfError);
    const err = e as BpfError;
    assert.is(err.op, 'BPF_PROG_LOAD');
    assert.is(err.code, 'EACCES');
    assert.match(err.message, /no_null_check/);
    assert.match(err.message, /map_value_or_null/);
    assert.ok(err.log && err.log.includes('processed'), 'the log tail is attached');
  }
});

programs('a CO-RE relocation against a type the kernel lacks is poisoned, and the error names it', () => {
  try {
    BpfObject.open(fixture('core.bpf.o')).load();
    assert.unreachable('struct task_like does not exist in the kernel');
  } catch (e) {
    assert.instance(e, BpfError);
    const m = (e as Error).message;
    assert.match(m, /read_task/);
    assert.match(m, /invalid func unknown#195896080/);
    assert.match(m, /CO-RE relocation byte_off at instruction 1 \(struct task_like, parent, access string "0:2"\)/);
    assert.match(m, /no type named task_like/);
  }
});

programs('no fd leaks: loads, closes and failures leave the fd count as it was', () => {
  const before = openFds();
  for (let i = 0; i < 5; i++) {
    callsWithoutCallback().load().close();
    BpfObject.open(fixture('globals.bpf.o')).load().close();
    try { BpfObject.open(fixture('verifier_reject.bpf.o')).load(); } catch { /* expected */ }
    try { BpfObject.open(fixture('core.bpf.o')).load(); } catch { /* expected */ }
  }
  assert.is(openFds(), before);
});

programs('logLevel keeps the verifier log of a program that loads', () => {
  const loaded = callsWithoutCallback().load({ logLevel: 1 });
  try {
    assert.match(loaded.programs.get('calls_first')!.verifierLog ?? '', /processed \d+ insns/);
  } finally {
    loaded.close();
  }
});
programs.run();
