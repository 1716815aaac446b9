// uprobes on a test binary built here with gcc, and on libc: entry and return probes, a pid-scoped
// probe by section (SEC("uprobe/libc.so.6:getpid")), the legacy tracefs way, uprobe.multi links with
// cookies and patterns, and pins — each proven by the program's counters against the calls the
// child made (and its own printed result).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachUprobe, attachUprobeMulti, BpfLink, hasKernelStruct, kernelAtLeast, PerfEventAttachment, PerfEventLink, UprobeLink, UprobeMultiLink, UsageError, type LoadedProgram,
} from '../../src/index.js';
import { REPO_ROOT } from '../support/paths.js';
import { sh, start } from '../support/proc.js';
import { Scope } from '../support/scope.js';
import { skipIf } from '../support/skip.js';
import { need } from '../support/tools.js';
import { loadFixture, notX64, type Fixture } from './attach-helpers.js';
import { removePinDir, tempPinDir } from './helpers.js';

const t = suite('attach: uprobe, uretprobe, uprobe.multi');
const test = skipIf(t, notX64);
const multiTest = skipIf(t, notX64 ?? (hasKernelStruct('bpf_uprobe_multi_link') ? undefined : 'this kernel has no uprobe.multi links (6.6+)'));

let binary: string | undefined;
function targetBinary(): string {
  if (binary) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'sockaccel-uprobe-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  binary = join(dir, 'uprobe-target');
  sh(need('gcc'), ['-O0', '-o', binary, join(REPO_ROOT, 'test', 'support', 'uprobe-target.c')], 60_000);
  return binary;
}

/** Start the target (it waits), attach with its pid, let it run; its printed sum and exit. */
async function runTarget(scope: Scope, args: number[], attach: (pid: number) => void): Promise<number> {
  const p = scope.start(targetBinary(), args.map(String), { timeoutMs: 20_000 });
  await p.waitLine(/^ready/, 10_000);
  attach(p.pid);
  p.write('go\n');
  const exit = await p.done;
  assert.is(exit.code, 0, `target exited ${exit.code}: ${exit.stderr}`);
  return Number(exit.stdout.trim().split('\n').pop());
}

function fixtureWith(keep: string[]): Fixture {
  return loadFixture('attach_uprobe.bpf.o', keep);
}
const prog = (f: Fixture, name: string) => f.loaded.programs.get(name) as LoadedProgram;

test('uprobe and uretprobe on a function of the binary, by symbol: calls, argument sum and return sum are exact', async () => {
  const f = fixtureWith(['up_entry', 'up_return']);
  const scope = new Scope('uprobe');
  try {
    const bin = targetBinary();
    const entry = attachUprobe(prog(f, 'up_entry'), bin, { symbol: 'target_add' });
    const ret = attachUprobe(prog(f, 'up_return'), bin, { symbol: 'target_add', retprobe: true });
    assert.instance(entry, UprobeLink);
    assert.instance(ret, UprobeLink);
    assert.match(entry.description, /uprobe .*uprobe-target:0x[0-9a-f]+ \(target_add\)/);
    const sum = await runTarget(scope, [10, 0, 0], () => {});
    assert.is(f.get('entry_calls'), 10);
    assert.is(f.get('entry_arg_sum'), 45, 'sum of the arguments 0..9');
    assert.is(f.get('return_sum'), 10045, 'sum of target_add(i) = i + 1000');
    assert.is(sum, 10045, 'the child computed the same');
    entry.close();
    ret.close();
    await runTarget(scope, [4, 0, 0], () => {});
    assert.is(f.get('entry_calls'), 10, 'closed: no more counts');
  } finally {
    await scope.close();
    f.close();
  }
});

test('by section, scoped to one pid: SEC("uprobe/libc.so.6:getpid") counts exactly the child\'s getpid() calls', async () => {
  const f = fixtureWith(['up_getpid']);
  const scope = new Scope('uprobe-libc');
  try {
    let a: ReturnType<LoadedProgram['attach']> | undefined;
    await runTarget(scope, [0, 0, 7], (pid) => {
      f.set('target_tgid', pid);
      a = prog(f, 'up_getpid').attach({ pid });
      assert.instance(a, UprobeLink);
      assert.match(a.description, /libc\.so\.6.*\(getpid\) in pid \d+/);
    });
    assert.is(f.get('getpid_calls'), 7);
    a!.close();
  } finally {
    await scope.close();
    f.close();
  }
});

test('the legacy way (tracefs uprobe_events + perf ioctl), as kernels without the PMU or links do: counts, and removes its event', async () => {
  const f = fixtureWith(['up_entry']);
  const scope = new Scope('uprobe-legacy');
  try {
    const a = attachUprobe(prog(f, 'up_entry'), targetBinary(), { symbol: 'target_mul', via: 'tracefs', method: 'perf_ioctl' });
    // The tracefs event is kernel-wide and outlives this process: removed also when an assertion fails.
    scope.defer('remove the legacy uprobe event', () => a.close());
    assert.instance(a, PerfEventAttachment);
    const event = /tracefs (sockaccel\/\S+)\)/.exec(a.description)?.[1];
    assert.ok(event, a.description);
    const events = () => readFileSync('/sys/kernel/tracing/uprobe_events', 'utf8');
    assert.ok(events().includes(event!), `${event} in uprobe_events`);
    await runTarget(scope, [0, 6, 0], () => {});
    assert.is(f.get('entry_calls'), 6);
    assert.is(f.get('entry_arg_sum'), 15);
    a.close();
    assert.not.ok(events().includes(event!), 'the trace event is removed on close');
  } finally {
    await scope.close();
    f.close();
  }
});

multiTest('uprobe.multi: one link on two functions, each with its cookie; a pattern finds both', async () => {
  const f = fixtureWith(['up_multi']);
  const scope = new Scope('uprobe-multi');
  try {
    const link = attachUprobeMulti(prog(f, 'up_multi'), targetBinary(), { symbols: ['target_add', 'target_mul'], cookies: [1n, 1000n] });
    assert.instance(link, UprobeMultiLink);
    await runTarget(scope, [3, 2, 0], () => {});
    assert.is(f.get('multi_cookie_sum'), 3 * 1 + 2 * 1000);
    link.close();
    const byPattern = attachUprobeMulti(prog(f, 'up_multi'), targetBinary(), { pattern: 'target_*', cookies: [10n, 100n] });
    assert.is(byPattern.info().detail.count, 2, 'the kernel holds two places');
    await runTarget(scope, [1, 1, 0], () => {});
    assert.is(f.get('multi_cookie_sum'), 2003 + 110);
    byPattern.close();
  } finally {
    await scope.close();
    f.close();
  }
});

test('a pinned uprobe link keeps counting without us; fromPin opens it (as a UprobeLink where the kernel says, 6.6+)', async () => {
  const dir = tempPinDir('uprobe');
  const f = fixtureWith(['up_entry']);
  const scope = new Scope('uprobe-pin');
  try {
    const link = attachUprobe(prog(f, 'up_entry'), targetBinary(), { symbol: 'target_add' });
    link.pin(`${dir}/up`);
    link.close();
    await runTarget(scope, [2, 0, 0], () => {});
    assert.is(f.get('entry_calls'), 2, 'pinned: still attached');
    const again = BpfLink.fromPin(`${dir}/up`);
    assert.instance(again, kernelAtLeast(6, 6) ? UprobeLink : PerfEventLink, `got ${again.constructor.name} (the kernel names the kind of a perf-event link from 6.6)`);
    rmSync(`${dir}/up`);
    again.close(); // the fd last: its release is synchronous, the pin's goes through the kernel's workqueue (bpf_link_put)
    await runTarget(scope, [2, 0, 0], () => {});
    assert.is(f.get('entry_calls'), 2, 'unpinned and closed: gone');
  } finally {
    await scope.close();
    f.close();
    removePinDir(dir);
  }
});

test('errors name the binary and the symbol, and say what to do', () => {
  const f = fixtureWith(['up_entry', 'up_multi']);
  try {
    assert.throws(() => attachUprobe(prog(f, 'up_entry'), targetBinary(), { symbol: 'no_such_function' }),
      (e: unknown) => e instanceof UsageError && /uprobe-target has no symbol no_such_function/.test(e.message) && /nm/.test(e.hint ?? ''));
    assert.throws(() => attachUprobe(prog(f, 'up_entry'), '/no/such/binary', { symbol: 'x' }), (e: unknown) => e instanceof UsageError && e.code === 'BAD_PATH');
    assert.throws(() => attachUprobe(prog(f, 'up_entry'), 'libno-such-library.so.9', { symbol: 'x' }), (e: unknown) => e instanceof UsageError && /library libno-such-library\.so\.9 not found/.test(e.message));
    assert.throws(() => attachUprobe(prog(f, 'up_multi'), targetBinary(), { symbol: 'target_add' }), (e: unknown) => e instanceof UsageError && /loaded for uprobe\.multi/.test(e.message));
    assert.throws(() => attachUprobeMulti(prog(f, 'up_entry'), targetBinary(), { symbols: ['target_add'] }), (e: unknown) => e instanceof UsageError && /TRACE_UPROBE_MULTI/.test(e.message));
  } finally {
    f.close();
  }
});

t.run();
