// Tracepoints on kernels with and without perf-event links: the link (5.15+) and the ioctl fallback
// (PERF_EVENT_IOC_SET_BPF + ENABLE, forced here with overrideProbe and with method), each proven by
// the count of this process's getppid() calls; the fallback is not pinnable, and close() stops it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { arch } from 'node:process';
import { attachTracepoint, overrideProbe, PerfEventAttachment, TracepointLink, UsageError } from '../../src/index.js';
import { skipIf } from '../support/skip.js';
import { loadFixture } from './attach-helpers.js';
import { tempPinDir } from './helpers.js';

const GETPPID: Record<string, number> = { x64: 110, arm64: 173 };
const t = suite('attach: tracepoint (perf-event link and ioctl fallback)');
const test = skipIf(t, GETPPID[arch] === undefined ? `no getppid syscall number known for ${arch}` : undefined);

const load = () => loadFixture('attach_kinds.bpf.o', ['count_tp'], { target_tgid: process.pid, getppid_nr: GETPPID[arch] ?? 0 });
const getppid = (n: number) => { for (let i = 0; i < n; i++) void process.ppid; };

test('with method "perf_ioctl": a PerfEventAttachment that counts exactly, cannot be pinned, and stops on close()', () => {
  const f = load();
  try {
    const a = attachTracepoint(f.loaded.programs.get('count_tp')!, 'syscalls', 'sys_enter_getppid', { method: 'perf_ioctl' });
    assert.instance(a, PerfEventAttachment);
    assert.is(a.method, 'perf_ioctl');
    getppid(17);
    assert.is(f.get('tp_hits'), 17);
    assert.throws(() => a.pin(`${tempPinDir('tp')}/x`), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /perf-event links \(5\.15\+\)/.test(e.message));
    assert.throws(() => attachTracepoint(f.loaded.programs.get('count_tp')!, 'syscalls', 'sys_enter_getppid', { method: 'perf_ioctl', cookie: 1n }),
      (e: unknown) => e instanceof UsageError && /cookie needs a perf-event link/.test(e.message));
    a.close();
    getppid(5);
    assert.is(f.get('tp_hits'), 17, 'closed: the event fd (and the program on it) is gone');
    a.close();
  } finally {
    f.close();
  }
});

test('a kernel without perf-event links (probe forced false): attach() by section takes the ioctl way', () => {
  overrideProbe('perf-links', false);
  const f = load();
  try {
    const a = f.loaded.programs.get('count_tp')!.attach();
    assert.instance(a, PerfEventAttachment);
    getppid(9);
    assert.is(f.get('tp_hits'), 9);
    a.close();
  } finally {
    overrideProbe('perf-links', undefined);
    f.close();
  }
});

test('with links: a TracepointLink whose cookie the program could read, and whose kind the kernel reports', () => {
  const f = load();
  try {
    const link = attachTracepoint(f.loaded.programs.get('count_tp')!, 'syscalls', 'sys_enter_getppid', { cookie: 42n });
    assert.instance(link, TracepointLink);
    assert.is(link.method, 'link');
    getppid(4);
    assert.is(f.get('tp_hits'), 4);
    link.close();
  } finally {
    f.close();
  }
});

t.run();
