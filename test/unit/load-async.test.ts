// loadAsync() and load() run the same steps (src/load/steps.ts): driven here by a fake kernel, the
// two make the same bpf() calls in the same order, give the same errors, and the async BTF reader
// indexes a BTF blob exactly as the synchronous one, malformed input included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfObject, VerifierError } from '../../src/index.js';
import { LazyBtf } from '../../src/btf/lazy.js';
import { BtfKind } from '../../src/btf/kinds.js';
import { runAsync, runSync, bpfStep, type Steps } from '../../src/load/steps.js';
import { Attr } from '../../src/sys/attr.js';
import { setBpfBackend, type BpfBackend, type SyscallResult } from '../../src/sys/syscall.js';
import * as A from '../../src/uapi/attr.js';
import { Cmd } from '../../src/uapi/enums.js';
import { decode } from '../../src/uapi/layout.js';
import { BtfBuilder } from './btf-builder.js';
import { fixturePath, type FixtureName } from './fixtures.js';

const EACCES = 13, EINVAL = 22;
const devNull = (): SyscallResult => ({ ret: openSync('/dev/null', 'r'), errno: 0 });

function fakeKernel(progLoad: () => SyscallResult): BpfBackend {
  return (cmd) => {
    switch (cmd) {
      case Cmd.BTF_LOAD: case Cmd.MAP_CREATE: return devNull();
      case Cmd.MAP_UPDATE_ELEM: case Cmd.MAP_FREEZE: case Cmd.PROG_BIND_MAP: return { ret: 0, errno: 0 };
      case Cmd.PROG_LOAD: return progLoad();
      default: return { ret: -1, errno: EINVAL };
    }
  };
}

/** The commands (and program names of PROG_LOADs) a load makes against `fake`. */
async function callsOf(fake: BpfBackend, load: () => unknown): Promise<{ calls: string[]; error?: unknown }> {
  const calls: string[] = [];
  const restore = setBpfBackend((cmd, attr) => {
    calls.push(cmd === Cmd.PROG_LOAD ? `PROG_LOAD ${decode(A.PROG_LOAD, attr.buf).prog_name} log_level=${decode(A.PROG_LOAD, attr.buf).log_level}` : `cmd ${cmd}`);
    return fake(cmd, attr);
  });
  try {
    const loaded = await load() as { close(): void };
    loaded.close();
    return { calls };
  } catch (error) {
    return { calls, error };
  } finally {
    restore();
  }
}

const open = (name: FixtureName) => BpfObject.open(readFileSync(fixturePath(name)), `${name}.bpf.o`);

test('load() and loadAsync() make the same bpf() calls for objects with maps, globals and subprograms', async () => {
  for (const name of ['calls', 'globals', 'legacy_maps'] as const) {
    // The first load of a process also asks what BTF the kernel takes (cached): compare warm loads.
    await callsOf(fakeKernel(devNull), () => open(name).load());
    const sync = await callsOf(fakeKernel(devNull), () => open(name).load());
    const async_ = await callsOf(fakeKernel(devNull), () => open(name).loadAsync());
    assert.is(sync.error, undefined, String(sync.error));
    assert.equal(async_.calls, sync.calls, name);
    assert.ok(sync.calls.some((c) => c.startsWith('PROG_LOAD')), name);
  }
});

test('a refusal takes the same retries (a load with a log) and ends in the same VerifierError', async () => {
  const verdict = "R0 invalid mem access 'map_value_or_null'";
  const refuse: BpfBackend = (cmd, attr) => {
    if (cmd !== Cmd.PROG_LOAD) return fakeKernel(devNull)(cmd, attr);
    const { log_level, log_buf } = decode(A.PROG_LOAD, attr.buf);
    if (log_level) attr.pointee(log_buf)!.write(`0: (b7) r0 = 0\n${verdict}\n\0`);
    return { ret: -1, errno: EACCES };
  };
  const sync = await callsOf(refuse, () => open('verifier_reject').load());
  const async_ = await callsOf(refuse, () => open('verifier_reject').loadAsync());
  assert.instance(sync.error, VerifierError);
  assert.instance(async_.error, VerifierError);
  assert.is((async_.error as Error).message, (sync.error as Error).message);
  assert.is((async_.error as VerifierError).verdict, verdict);
  assert.equal(async_.calls, sync.calls);
  assert.equal(sync.calls.filter((c) => c.startsWith('PROG_LOAD')), ['PROG_LOAD no_null_check log_level=0', 'PROG_LOAD no_null_check log_level=1']);
});

test('steps: an error thrown while answering a yield reaches the steps, whose cleanup runs, in both drivers', async () => {
  let cleaned = 0;
  function* steps(): Steps<number> {
    try {
      const r = yield* bpfStep(Cmd.MAP_CREATE, new Attr(A.MAP_CREATE, {}), 'test map');
      return r.ret;
    } finally {
      cleaned++;
    }
  }
  const restore = setBpfBackend(() => { throw new Error('backend broke'); });
  try {
    assert.throws(() => runSync(steps()), /backend broke/);
    let err: unknown;
    try { await runAsync(steps()); } catch (e) { err = e; }
    assert.match(String(err), /backend broke/);
    assert.is(cleaned, 2);
  } finally {
    restore();
  }
});

function btfFile(blob: Buffer): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sockaccel-btf-'));
  const path = join(dir, 'vmlinux');
  writeFileSync(path, blob);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('LazyBtf.readAsync indexes in slices exactly as LazyBtf.read does', async () => {
  const b = new BtfBuilder();
  const int = b.type('int', BtfKind.INT, 0, false, 4, 0x01000020);
  for (let i = 0; i < 50; i++) b.type(`s${i}`, BtfKind.STRUCT, 1, false, 4, b.str('x'), int, 0);
  b.type('e', BtfKind.ENUM, 2, false, 4, b.str('A'), 0, b.str('B'), 1);
  const f = btfFile(b.build());
  try {
    const sync = LazyBtf.read(f.path);
    const async_ = await LazyBtf.readAsync(f.path, 7);
    assert.is(async_.count, sync.count);
    for (let id = 1; id < sync.count; id++) {
      assert.is(async_.kindOf(id), sync.kindOf(id), `kind of ${id}`);
      assert.equal(async_.type(id), sync.type(id), `type ${id}`);
    }
    assert.equal(async_.idsByEssentialName('s42'), sync.idsByEssentialName('s42'));
  } finally {
    f.done();
  }
});

test('LazyBtf.readAsync refuses malformed BTF with read()\'s error', async () => {
  const b = new BtfBuilder();
  b.type('int', BtfKind.INT, 0, false, 4, 0x01000020);
  b.raw(b.str('bad'), (31 << 24) >>> 0, 0);
  const f = btfFile(b.build());
  try {
    let syncErr: unknown;
    try { LazyBtf.read(f.path); } catch (e) { syncErr = e; }
    let asyncErr: unknown;
    try { await LazyBtf.readAsync(f.path, 1); } catch (e) { asyncErr = e; }
    assert.ok(syncErr, 'read() refuses it');
    assert.is((asyncErr as Error)?.message, (syncErr as Error).message);
    let missing: unknown;
    try { await LazyBtf.readAsync(join(f.path, 'nope')); } catch (e) { missing = e; }
    assert.match(String(missing), /cannot read kernel BTF/);
  } finally {
    f.done();
  }
});

test.run();
