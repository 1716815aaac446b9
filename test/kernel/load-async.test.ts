// loadAsync(): the same load as load() with the event loop free while the kernel works. Proven by a
// timer that keeps firing while the verifier spends hundreds of milliseconds on verifier_heavy
// (a count of ticks while the load was pending, never a timing threshold), by the narration staying
// per load when two loads overlap, and by refusals and fds being exactly load()'s.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BpfObject, LoadedObject, VerifierError } from '../../src/index.js';
import { clearKernelBtfCache, kernelBtf, kernelBtfAsync, LazyBtf, VMLINUX_BTF } from '../../src/btf/lazy.js';
import { fixture, openFds, removePinDir, tempPinDir } from './helpers.js';

const PACKET = Buffer.alloc(64, 0xab);
/** (0 + ... + 59999) & 0xff: what verifier_heavy returns. */
const HEAVY_RESULT = 208;

/** Run `work` with a 1 ms interval timer; the number of ticks it got while `work` was pending. */
async function ticksDuring<T>(work: () => Promise<T> | T): Promise<{ value: T; ticks: number; ms: number; maxLagMs: number }> {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const t0 = performance.now();
  try {
    const value = await work();
    const seen = ticks;
    return { value, ticks: seen, ms: performance.now() - t0, maxLagMs: lag.max / 1e6 };
  } finally {
    clearInterval(timer);
    lag.disable();
  }
}

const lag = suite('loadAsync: the event loop runs during the load');

lag('a timer keeps firing while the verifier checks verifier_heavy; load() stops it', async () => {
  const obj = BpfObject.open(fixture('verifier_heavy.bpf.o'));
  // Synchronous: the timer cannot fire until load() returns.
  const sync = await ticksDuring(() => obj.load());
  sync.value.close();
  const async_ = await ticksDuring(() => obj.loadAsync());
  try {
    assert.instance(async_.value, LoadedObject);
    const prog = async_.value.programs.get('verifier_heavy')!;
    assert.is(prog.testRun({ data: PACKET }).retval, HEAVY_RESULT, 'the loaded program is the real one');
    console.log(`    load(): ${sync.ms.toFixed(0)} ms, ${sync.ticks} timer ticks, max event-loop lag ${sync.maxLagMs.toFixed(0)} ms; ` +
      `loadAsync(): ${async_.ms.toFixed(0)} ms, ${async_.ticks} ticks, max lag ${async_.maxLagMs.toFixed(0)} ms`);
    assert.is(sync.ticks, 0, 'load() holds the event loop for the whole verification');
    assert.ok(async_.ticks > 0, `the interval fired during loadAsync (${async_.ticks} ticks)`);
  } finally {
    async_.value.close();
  }
});

lag('the verifier statistics are narrated by loadAsync as by load()', async () => {
  const said: string[] = [];
  const loaded = await BpfObject.open(fixture('verifier_heavy.bpf.o')).loadAsync({ explain: (l) => said.push(l) });
  loaded.close();
  const stats = said.find((l) => l.startsWith('the verifier accepted verifier_heavy:'));
  assert.ok(stats, said.join('\n'));
  assert.match(stats!, /processed \d+ insns/);
  assert.ok(said.some((l) => /^bpf\(BPF_PROG_LOAD \{ .*prog_name="verifier_heavy"/.test(l)), 'the PROG_LOAD call itself is narrated');
});

lag.run();

const same = suite('loadAsync: the same load as load()');

same('two overlapping loads narrate only their own calls', async () => {
  const a: string[] = [];
  const b: string[] = [];
  const [x, y] = await Promise.all([
    BpfObject.open(fixture('verifier_heavy.bpf.o')).loadAsync({ explain: (l) => a.push(l) }),
    BpfObject.open(fixture('calls.bpf.o')).loadAsync({ explain: (l) => b.push(l) }),
  ]);
  try {
    const loadsOf = (lines: string[]) => lines.filter((l) => l.startsWith('bpf(BPF_PROG_LOAD')).map((l) => /prog_name="(\w+)"/.exec(l)?.[1]);
    assert.equal(loadsOf(a), ['verifier_heavy']);
    assert.equal(loadsOf(b).sort(), ['calls_first', 'calls_loop', 'calls_second']);
    assert.is(y.programs.get('calls_first')!.testRun({ data: PACKET }).retval, 25);
    assert.is(x.programs.get('verifier_heavy')!.testRun({ data: PACKET }).retval, HEAVY_RESULT);
  } finally {
    x.close();
    y.close();
  }
});

same('a refusal is load()\'s VerifierError, and nothing is left open', async () => {
  const obj = BpfObject.open(fixture('verifier_reject.bpf.o'));
  let syncErr: unknown;
  try { obj.load().close(); } catch (e) { syncErr = e; }
  const before = openFds();
  let asyncErr: unknown;
  try { (await obj.loadAsync()).close(); } catch (e) { asyncErr = e; }
  assert.instance(syncErr, VerifierError);
  assert.instance(asyncErr, VerifierError);
  // The log itself names per-load ids; the verdict, where, and the hint are the same.
  const head = (e: unknown) => (e as Error).message.split('\nverifier log:')[0];
  assert.is(head(asyncErr), head(syncErr));
  assert.is((asyncErr as VerifierError).verdict, (syncErr as VerifierError).verdict);
  assert.equal((asyncErr as VerifierError).source, (syncErr as VerifierError).source);
  assert.is(openFds(), before, 'no fd left open by the failed loadAsync');
});

same('loadAsync of the accelerator-style fixtures matches load(): programs, maps, results', async () => {
  for (const name of ['calls.bpf.o', 'globals.bpf.o', 'maps.bpf.o']) {
    const obj = BpfObject.open(fixture(name));
    // maps.bpf.o pins one map by name (LIBBPF_PIN_BY_NAME): under a test directory, not /sys/fs/bpf.
    const pinRoot = tempPinDir('load-async');
    const s = obj.load({ pinRoot });
    const a = await obj.loadAsync({ pinRoot });
    try {
      assert.equal([...a.programs.keys()], [...s.programs.keys()], name);
      assert.equal([...a.maps.keys()], [...s.maps.keys()], name);
      for (const [n, p] of a.programs) {
        assert.is(p.info().tag, s.programs.get(n)!.info().tag, `${name} ${n}: the kernel saw the same instructions`);
      }
    } finally {
      s.close();
      a.close();
      removePinDir(pinRoot);
    }
  }
});

same.run();

const btf = suite('loadAsync: kernel BTF read off the event loop');

btf('kernelBtfAsync reads vmlinux with the timer firing, and indexes it as kernelBtf does', async () => {
  clearKernelBtfCache();
  const r = await ticksDuring(() => kernelBtfAsync(VMLINUX_BTF));
  console.log(`    kernelBtfAsync: ${r.ms.toFixed(0)} ms, ${r.ticks} timer ticks, max lag ${r.maxLagMs.toFixed(0)} ms`);
  assert.ok(r.ticks > 0, `the interval fired while the BTF was read and indexed (${r.ticks} ticks)`);
  assert.is(kernelBtf(VMLINUX_BTF), r.value, 'the synchronous path finds it in the same cache');
  const fresh = LazyBtf.read(VMLINUX_BTF);
  assert.is(r.value.count, fresh.count);
  for (const name of ['task_struct', 'sk_buff', 'bpf_map']) {
    const ids = r.value.idsByEssentialName(name);
    assert.equal(ids, fresh.idsByEssentialName(name), name);
    assert.equal(r.value.type(ids[0]!), fresh.type(ids[0]!), name);
  }
});

btf('a CO-RE object loads with loadAsync on a cold BTF cache', async () => {
  clearKernelBtfCache();
  // read_missing is core_task's deliberately unresolvable relocation; read_task resolves.
  const obj = BpfObject.open(fixture('core_task.bpf.o'));
  const r = await ticksDuring(() => obj.loadAsync({ programs: ['read_task'] }));
  try {
    assert.ok(r.value.programs.size > 0);
    assert.ok([...r.value.programs.values()].some((p) => p.coreRelocations.length > 0), 'CO-RE relocations were applied');
    assert.ok(r.ticks > 0, `the interval fired during the load (${r.ticks} ticks)`);
  } finally {
    r.value.close();
  }
});

btf.run();
