// Pure parts of doctor, trace and the CLI's error reporting: no kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeError, PRIVILEGE_FIX } from '../../src/cli/errors.js';
import { BpfError, ObjectError, UsageError } from '../../src/errors.js';
import { checkBpffs, checkCgroup2, checkKernel, checkPrivileges, parseKernelRelease } from '../../src/accel/doctor.js';
import { findTracePipe, parseTraceLine } from '../../src/trace/trace-pipe.js';

const m = (target: string, fstype: string) => ({ source: fstype, target, fstype });

test('kernel version check', () => {
  assert.equal(parseKernelRelease('6.18.44-fc-v657'), [6, 18]);
  assert.equal(parseKernelRelease('5.15.0-91-generic'), [5, 15]);
  assert.is(parseKernelRelease('weird'), undefined);
  assert.ok(checkKernel('6.18.44-fc-v657').ok);
  assert.ok(checkKernel('5.15.0').ok);
  const old = checkKernel('5.10.0-21-amd64');
  assert.not.ok(old.ok);
  assert.match(old.fix!, /5\.15/);
});

test('privileges check', () => {
  const all = (1n << 40n) - 1n;
  assert.ok(checkPrivileges(all, 0).ok);
  // CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (bpf_snprintf in the trace lines, the tp_btf observers).
  const bpfNet = (1n << 39n) | (1n << 12n);
  assert.ok(checkPrivileges(bpfNet | (1n << 38n), 1000).ok);
  const noPerfmon = checkPrivileges(bpfNet, 1000);
  assert.not.ok(noPerfmon.ok);
  assert.match(noPerfmon.detail, /lacks CAP_PERFMON/);
  const none = checkPrivileges(0n, 65534);
  assert.not.ok(none.ok);
  assert.match(none.detail, /not root/);
  assert.match(none.detail, /CAP_BPF/);
  assert.match(none.fix!, /root/);
});

test('cgroup2 and bpffs checks', () => {
  assert.ok(checkCgroup2([m('/sys/fs/cgroup/unified', 'cgroup2')]).ok);
  assert.match(checkCgroup2([m('/sys/fs/cgroup/unified', 'cgroup2')]).detail, /\/sys\/fs\/cgroup\/unified/);
  const v1 = checkCgroup2([m('/sys/fs/cgroup/cpu', 'cgroup')]);
  assert.not.ok(v1.ok);
  assert.match(v1.detail, /v1/);
  assert.ok(checkBpffs([m('/sys/fs/bpf', 'bpf')], false).ok);
  assert.match(checkBpffs([], true).detail, /will be mounted by up/);
  assert.not.ok(checkBpffs([], false).ok);
});

test('trace lines: ours are parsed, others ignored', () => {
  const raw = '          iperf3-8128    [001] d..31   856.174086: bpf_trace_printk: sockaccel: insert 0 [::1]:5201 > [::1]:40000 netns 3';
  const l = parseTraceLine(raw, 'sockaccel:')!;
  assert.is(l.message, 'sockaccel: insert 0 [::1]:5201 > [::1]:40000 netns 3');
  assert.is(l.task, 'iperf3');
  assert.is(l.pid, 8128);
  assert.is(l.cpu, 1);
  assert.is(l.timestamp, 856.174086);
  const withTgid = parseTraceLine('  my-app-name-42 (   40) [000] ....  1.5: bpf_trace_printk: sockaccel: miss 0 x', 'sockaccel:')!;
  assert.is(withTgid.task, 'my-app-name');
  assert.is(withTgid.pid, 42);
  assert.is(parseTraceLine('   bash-1 [000] d..1 1.0: bpf_trace_printk: hello', 'sockaccel:'), undefined);
  assert.is(parseTraceLine('garbage sockaccel: odd', 'sockaccel:')!.message, 'sockaccel: odd');
  // Without a prefix every line is a program's output: the message is what bpf_printk printed.
  assert.is(parseTraceLine('   bash-1 [000] d..1 1.0: bpf_trace_printk: hello')!.message, 'hello');
});

test('trace pipe lookup', () => {
  const yes = () => true;
  assert.is(findTracePipe([m('/sys/kernel/debug', 'debugfs'), m('/sys/kernel/tracing', 'tracefs')], yes), '/sys/kernel/tracing/trace_pipe');
  assert.is(findTracePipe([m('/sys/kernel/debug', 'debugfs')], yes), '/sys/kernel/debug/tracing/trace_pipe');
  assert.is(findTracePipe([m('/mnt/t', 'tracefs')], yes), '/mnt/t/trace_pipe');
  assert.is(findTracePipe([], yes), undefined);
  assert.is(findTracePipe([m('/sys/kernel/tracing', 'tracefs')], () => false), undefined);
});

test('errors: what failed, then what to do; EPERM means privileges', () => {
  const eperm = new BpfError('BPF_PROG_LOAD', 1, 'EPERM', 'BPF_PROG_LOAD failed for program x: EPERM');
  assert.equal(describeError(eperm), ['error: BPF_PROG_LOAD failed for program x: EPERM', PRIVILEGE_FIX]);
  // An EPERM whose hint says more (root already, so lockdown) keeps its hint.
  const locked = new BpfError('BPF_PROG_LOAD', 1, 'EPERM', 'BPF_PROG_LOAD failed for program x: EPERM', { hint: 'kernel lockdown' });
  assert.equal(describeError(locked), ['error: BPF_PROG_LOAD failed for program x: EPERM', 'kernel lockdown']);
  const busy = new UsageError('BUSY', 'old install busy', { hint: 'run down --force' });
  assert.equal(describeError(busy), ['error: old install busy', 'run down --force']);
  assert.equal(describeError(new UsageError('NEEDS_PRIVILEGES', 'up needs privileges', { hint: 'x' })), ['error: up needs privileges', PRIVILEGE_FIX]);
  const withLog = new BpfError('BPF_PROG_LOAD', 13, 'EACCES', 'rejected', { hint: 'see the log', log: 'R1 invalid mem access' });
  assert.equal(describeError(withLog), ['error: rejected', 'see the log']);
  assert.ok(describeError(withLog, true).includes('R1 invalid mem access'));
  const fsErr = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES' });
  assert.equal(describeError(fsErr), ["error: EACCES: permission denied, open '/x'", PRIVILEGE_FIX]);
  assert.is(describeError(new ObjectError('a.o', 'bad ELF')).length, 2);
  assert.is(describeError(new Error('plain')).length, 1);
  assert.ok(describeError(new Error('plain'), true).some((l) => l.includes('at ')), 'stack with --debug');
});

test.run();
