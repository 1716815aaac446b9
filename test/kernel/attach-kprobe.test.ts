// kprobes, on kernels that have them (the 6.1/6.12 test VMs; this host is built without kprobes and
// gets a test of the error that says so): kprobe and kretprobe on the getppid syscall counting this
// process's calls and summing what it returned, by section (kprobe/…, ksyscall/…), the legacy
// tracefs way with links and with ioctls, cookies, pins, and kprobe.multi links where the kernel
// has CONFIG_FPROBE (6.12) — on 6.1 the refusal names it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import {
  attachKprobe, attachKprobeMulti, BpfError, BpfLink, hasKernelStruct, hasProbePmu, kernelAtLeast, KprobeLink, KprobeMultiLink, PerfEventAttachment, PerfEventLink, UsageError,
  type LoadedProgram,
} from '../../src/index.js';
import { skipIf } from '../support/skip.js';
import { loadFixture, notX64, type Fixture } from './attach-helpers.js';
import { removePinDir, tempPinDir } from './helpers.js';

const t = suite('attach: kprobe, kretprobe, kprobe.multi');
const haveKprobes = hasProbePmu('kprobe') || existsSync('/sys/kernel/tracing/kprobe_events');
const test = skipIf(t, notX64 ?? (haveKprobes ? undefined : 'this kernel has no kprobes (no kprobe PMU, no kprobe_events): run in the VMs (npm run test:vm -- 6.1 --only kernel/attach-kprobe)'));
const noKprobeTest = skipIf(t, haveKprobes ? 'this kernel has kprobes: the no-kprobes error is tested where there are none (this repository\'s host)' : undefined);
const multiTest = skipIf(t, notX64 ?? (!haveKprobes ? 'no kprobes here' : hasKernelStruct('bpf_kprobe_multi_link') ? undefined : 'this kernel has no kprobe.multi links (CONFIG_FPROBE): the refusal is tested instead'));
const noMultiTest = skipIf(t, notX64 ?? (!haveKprobes ? 'no kprobes here' : hasKernelStruct('bpf_kprobe_multi_link') ? 'this kernel has kprobe.multi links' : undefined));

const FN = '__x64_sys_getppid';
const load = (keep: string[]): Fixture => loadFixture('attach_kprobe.bpf.o', keep, { target_tgid: process.pid });
const prog = (f: Fixture, n: string) => f.loaded.programs.get(n) as LoadedProgram;
const getppid = (n: number) => { for (let i = 0; i < n; i++) void process.ppid; };

/**
 * The oracle: the syscalls:sys_enter_getppid tracepoint counting this process's getppid() calls
 * (exact, see attach.test.ts). A kprobe must count the same — also a call some other code of this
 * process makes meanwhile. Nothing may read process.ppid while a probe is on (it is a getppid() call).
 */
function oracle(): { calls(): number; close(): void } {
  const f = loadFixture('attach_kinds.bpf.o', ['count_tp'], { target_tgid: process.pid, getppid_nr: 110 });
  const link = f.loaded.programs.get('count_tp')!.attach();
  return { calls: () => f.get('tp_hits'), close: () => { link.close(); f.close(); } };
}

test('kprobe and kretprobe (the PMU): exactly our getppid() calls, and the sum of what it returned', () => {
  const f = load(['kp_getppid', 'krp_getppid']);
  const calls = oracle();
  try {
    const ppid = process.ppid; // read before attaching: process.ppid is itself a getppid() call
    const entry = attachKprobe(prog(f, 'kp_getppid'), FN);
    const exit = attachKprobe(prog(f, 'krp_getppid'), FN, { retprobe: true });
    assert.instance(entry, KprobeLink);
    assert.instance(exit, KprobeLink);
    const before = calls.calls();
    getppid(12);
    const n = calls.calls() - before;
    assert.ok(n >= 12, `the tracepoint saw our 12 calls (${n})`);
    assert.is(f.get('kprobe_calls'), n, 'the kprobe counts what the tracepoint counts');
    assert.is(f.get('kretprobe_sum'), n * ppid, 'each return value is our ppid');
    entry.close();
    exit.close();
    getppid(3);
    assert.is(f.get('kprobe_calls'), n, 'closed: no more');
  } finally {
    calls.close();
    f.close();
  }
});

test('by section: SEC("kprobe/__x64_sys_getppid") and SEC("ksyscall/getppid") attach with attach()', () => {
  const f = load(['kp_getppid', 'ks_getppid']);
  try {
    const a = prog(f, 'kp_getppid').attach();
    const b = prog(f, 'ks_getppid').attach();
    assert.match(b.description, /kprobe __x64_sys_getppid/);
    getppid(5);
    assert.is(f.get('kprobe_calls'), 5);
    assert.is(f.get('ksyscall_calls'), 5);
    a.close();
    b.close();
  } finally {
    f.close();
  }
});

for (const method of ['link', 'perf_ioctl'] as const) {
  test(`the legacy tracefs kprobe_events way (${method}): counts, and its trace event goes on close`, () => {
    const f = load(['kp_getppid']);
    let a: ReturnType<typeof attachKprobe> | undefined;
    try {
      a = attachKprobe(prog(f, 'kp_getppid'), FN, { via: 'tracefs', method });
      assert.instance(a, method === 'link' ? KprobeLink : PerfEventAttachment);
      const event = /tracefs (sockaccel\/\S+)\)/.exec(a.description)?.[1];
      const events = () => readFileSync('/sys/kernel/tracing/kprobe_events', 'utf8');
      assert.ok(event && events().includes(event), `${event} in kprobe_events`);
      getppid(7);
      assert.is(f.get('kprobe_calls'), 7);
      a.close();
      assert.not.ok(events().includes(event!), 'removed');
    } finally {
      a?.close(); // the tracefs event is kernel-wide: removed also when an assertion failed (close is idempotent)
      f.close();
    }
  });
}

test('a cookie on the perf-event link reaches bpf_get_attach_cookie()', () => {
  const f = load(['kp_cookie']);
  try {
    const a = attachKprobe(prog(f, 'kp_cookie'), FN, { cookie: 7n });
    getppid(3);
    assert.is(f.get('cookie_sum'), 21);
    a.close();
  } finally {
    f.close();
  }
});

test('a pinned kprobe link keeps counting after close(); fromPin opens it (as a KprobeLink where the kernel says, 6.6+)', () => {
  const dir = tempPinDir('kprobe');
  const f = load(['kp_getppid']);
  try {
    const link = attachKprobe(prog(f, 'kp_getppid'), FN) as KprobeLink;
    link.pin(`${dir}/kp`);
    link.close();
    getppid(2);
    assert.is(f.get('kprobe_calls'), 2);
    const again = BpfLink.fromPin(`${dir}/kp`);
    assert.instance(again, kernelAtLeast(6, 6) ? KprobeLink : PerfEventLink);
    rmSync(`${dir}/kp`);
    again.close(); // the fd last: its release is synchronous, the pin's goes through the kernel's workqueue (bpf_link_put)
    getppid(2);
    assert.is(f.get('kprobe_calls'), 2);
  } finally {
    f.close();
    removePinDir(dir);
  }
});

test('a function that does not exist: the error names it and where to look', () => {
  const f = load(['kp_getppid']);
  try {
    assert.throws(() => attachKprobe(prog(f, 'kp_getppid'), 'no_such_kernel_function_here'),
      (e: unknown) => e instanceof BpfError && /no_such_kernel_function_here/.test(e.message) && /kallsyms/.test(e.hint ?? ''));
    assert.throws(() => attachKprobe(prog(f, 'kp_getppid'), FN, { retprobe: true, offset: 4 }), (e: unknown) => e instanceof UsageError && /cannot have an offset/.test(e.message));
  } finally {
    f.close();
  }
});

multiTest('kprobe.multi: one link on two functions with a cookie each; by section with a pattern', () => {
  const f = load(['kp_multi']);
  try {
    const link = attachKprobeMulti(prog(f, 'kp_multi'), { symbols: ['__x64_sys_getuid', '__x64_sys_getgid'], cookies: [1n, 1000n] });
    assert.instance(link, KprobeMultiLink);
    for (let i = 0; i < 3; i++) process.getuid!();
    for (let i = 0; i < 2; i++) process.getgid!();
    assert.is(f.get('multi_cookie_sum'), 3 + 2000);
    assert.is(f.get('multi_calls'), 5);
    link.close();
    // The section's pattern is matched against what ftrace lists (available_filter_functions).
    const bySection = prog(f, 'kp_multi').attach() as KprobeMultiLink;
    assert.instance(bySection, KprobeMultiLink);
    assert.match(bySection.description, /functions matching __do_sys_getuid\*/);
    for (let i = 0; i < 4; i++) process.getuid!();
    assert.is(f.get('multi_calls'), 5 + 4, 'by pattern: each getuid() once');
    assert.is(f.get('multi_cookie_sum'), 3 + 2000, 'no cookies given: 0 each');
    bySection.close();
    process.getuid!();
    assert.is(f.get('multi_calls'), 9, 'closed: no more');
  } finally {
    f.close();
  }
});

noMultiTest('kprobe.multi on a kernel without CONFIG_FPROBE: NOT_SUPPORTED, naming it', () => {
  const f = load(['kp_multi']);
  try {
    assert.throws(() => attachKprobeMulti(prog(f, 'kp_multi'), { symbols: ['__x64_sys_getuid'] }),
      (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /CONFIG_FPROBE/.test(e.hint ?? ''));
  } finally {
    f.close();
  }
});

noKprobeTest('a kernel without kprobes: NOT_SUPPORTED, naming CONFIG_KPROBE_EVENTS', () => {
  const f = load(['kp_getppid']);
  try {
    assert.throws(() => attachKprobe(prog(f, 'kp_getppid'), 'do_sys_openat2'),
      (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /no kprobes/.test(e.message) && /CONFIG_KPROBE_EVENTS/.test(e.hint ?? ''));
    assert.throws(() => prog(f, 'kp_getppid').attach(), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED');
  } finally {
    f.close();
  }
});

t.run();
