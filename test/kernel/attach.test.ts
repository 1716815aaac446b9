// Tracing attach kinds on the real kernel, each proven by its effect: a tracepoint (perf_event_open +
// perf-event link), a raw tracepoint and a BTF-typed tracepoint (attach_btf_id resolved from the
// kernel's BTF) count this process's getppid() calls; the links pin, and close()/detach() stop them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { arch } from 'node:process';
import { BpfLink, BpfObject, PerfEventLink, RawTracepointLink, UsageError, type LoadedObject } from '../../src/index.js';
import { fixture, removePinDir, tempPinDir } from './helpers.js';

const GETPPID: Record<string, number> = { x64: 110, arm64: 173 };
const t = suite('attach: tracepoint, raw_tp, tp_btf');
const run = GETPPID[arch] !== undefined ? t : t.skip;
if (GETPPID[arch] === undefined) console.log(`  skipped: no getppid syscall number known for ${arch}`);

function load(): LoadedObject {
  const obj = BpfObject.open(fixture('attach_kinds.bpf.o'));
  obj.setGlobal('target_tgid', process.pid).setGlobal('getppid_nr', GETPPID[arch] ?? 0);
  return obj.load();
}

function hits(loaded: LoadedObject, name: 'tp_hits' | 'raw_hits' | 'btf_hits'): number {
  const bss = loaded.maps.get('.bss')!.lookup(Buffer.alloc(4))!;
  const offset = { tp_hits: 0, raw_hits: 8, btf_hits: 16 }[name];
  return Number(bss.readBigUInt64LE(offset));
}

const callGetppid = (n: number) => { for (let i = 0; i < n; i++) void process.ppid; };

for (const [program, counter, Kind] of [
  ['count_tp', 'tp_hits', PerfEventLink],
  ['count_raw', 'raw_hits', RawTracepointLink],
  ['count_btf', 'btf_hits', RawTracepointLink],
] as const) {
  run(`${program}: attach() from its section, counts exactly our getppid calls, and close() stops it`, () => {
    const loaded = load();
    try {
      const link = loaded.programs.get(program)!.attach();
      assert.instance(link, BpfLink);
      assert.instance(link, Kind, `a ${Kind.name} (got ${link.constructor.name}, kind ${link.kind})`);
      assert.is(hits(loaded, counter), 0);
      callGetppid(25);
      assert.is(hits(loaded, counter), 25, `${counter} after 25 getppid calls`);
      assert.is((link as BpfLink).info().progId, loaded.programs.get(program)!.info().id);
      link.close();
      callGetppid(5);
      assert.is(hits(loaded, counter), 25, 'an unpinned link is gone once closed');
    } finally {
      loaded.close();
    }
  });
}

run('a pinned tracepoint link keeps counting after close(); it goes with its pin and last fd (perf links cannot be detached)', () => {
  const dir = tempPinDir('attach');
  const loaded = load();
  try {
    const link = loaded.programs.get('count_tp')!.attach();
    link.pin(`${dir}/tp`);
    link.close();
    callGetppid(3);
    assert.is(hits(loaded, 'tp_hits'), 3, 'pinned: still attached');
    const again = BpfLink.fromPin(`${dir}/tp`);
    assert.instance(again, PerfEventLink);
    assert.throws(() => again.detach(), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /remove its pin/.test(e.hint ?? ''));
    rmSync(`${dir}/tp`);
    callGetppid(3);
    assert.is(hits(loaded, 'tp_hits'), 6, 'our fd from the pin still holds it');
    again.close();
    callGetppid(3);
    assert.is(hits(loaded, 'tp_hits'), 6, 'gone with the pin and the last fd');
  } finally {
    loaded.close();
    removePinDir(dir);
  }
});

run('a tp_btf program for a tracepoint this kernel lacks is refused at load, naming it', () => {
  const obj = BpfObject.open(fixture('attach_kinds.bpf.o'));
  const prog = obj.programs.get('count_btf')!;
  prog.attachTo = 'no_such_tracepoint_here';
  try {
    obj.load().close();
    assert.unreachable('must be refused');
  } catch (e) {
    assert.instance(e, UsageError);
    assert.is((e as UsageError).code, 'NOT_SUPPORTED');
    assert.match((e as Error).message, /count_btf.*(has no|none of .* has a) BTF-typed tracepoint btf_trace_no_such_tracepoint_here/);
  }
});

run('a tracepoint that does not exist: a clear error naming it', () => {
  const loaded = load();
  try {
    assert.throws(() => loaded.programs.get('count_tp')!.attachTracepoint('syscalls', 'sys_enter_no_such_call'), /sys_enter_no_such_call/);
  } finally {
    loaded.close();
  }
});

t.run();
