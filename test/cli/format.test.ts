// Pure formatting helpers of the CLI: no kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  upCommand,
  formatBytes, formatCount, formatDuration, formatRate, renderDoctor, renderDown, renderDownProgress, renderStats,
  renderStatsRates, renderStatus, renderVerify,
} from '../../src/cli/format.js';
import type { Stats, Status } from '../../src/accel/types.js';

test('formatBytes', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1023), '1023 B');
  assert.is(formatBytes(1024), '1.0 KiB');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(10 * 1024 * 1024), '10.0 MiB');
  assert.is(formatBytes(3.25 * 1024 ** 3), '3.3 GiB');
  assert.is(formatBytes(2 * 1024 ** 4), '2.0 TiB');
});

test('formatCount, formatRate, formatDuration', () => {
  assert.is(formatCount(0), '0');
  assert.is(formatCount(999), '999');
  assert.is(formatCount(1234567), '1,234,567');
  assert.is(formatRate(2048, true), '2.0 KiB/s');
  assert.is(formatRate(12.5, false), '12.5/s');
  assert.is(formatRate(3, false), '3/s');
  assert.is(formatRate(12345, false), '12,345/s');
  assert.is(formatDuration(5000), '5s');
  assert.is(formatDuration(30000), '30s');
  assert.is(formatDuration(90000), '1m30s');
  assert.is(formatDuration(120000), '2m');
});

const upStatus: Status = {
  up: true,
  state: 'up',
  pinDir: '/sys/fs/bpf/sockaccel',
  cgroup: '/sys/fs/cgroup/unified',
  trace: false,
  version: '0.1.0',
  sockops: { method: 'link', programId: 41, linkId: 7 },
  msg: { method: 'prog_attach', programId: 42 },
  maps: { sockHash: 11, passed: 12, counters: 13 },
  maxEntries: 65535,
  connections: 3,
  installedAt: '2025-01-01T00:00:00.000Z',
};

test('renderStatus: installed', () => {
  const text = renderStatus(upStatus);
  assert.match(text, /^sockaccel: up$/m);
  assert.match(text, /cgroup:\s+\/sys\/fs\/cgroup\/unified/);
  assert.match(text, /sock_ops:\s+program 41, attached to the cgroup with bpf_link 7/);
  assert.match(text, /sk_msg:\s+program 42, attached to map 11 with prog_attach/);
  assert.match(text, /maps:\s+sock_hash 11, passed 12, counters 13/);
  assert.match(text, /accelerated:\s+3 sockets \(2 connections\) now \(room for 65,535 sockets\)/);
  // The hint keeps the install's cgroup: copied literally it must not widen the install.
  assert.match(text, /trace:\s+off \(turn on with: sudo sockaccel-ffi up --trace --cgroup \/sys\/fs\/cgroup\/unified\)/);
});

test('hints keep --cgroup and --pin-dir', () => {
  const text = renderStatus({ ...upStatus, cgroup: '/sys/fs/cgroup/unified/app', pinDir: '/sys/fs/bpf/mine' });
  assert.match(text, /turn on with: sudo sockaccel-ffi up --trace --cgroup \/sys\/fs\/cgroup\/unified\/app --pin-dir \/sys\/fs\/bpf\/mine\)/);
  assert.match(renderStatus({ ...upStatus, trace: true, pinDir: '/sys/fs/bpf/mine' }), /read with: sudo sockaccel-ffi trace --pin-dir \/sys\/fs\/bpf\/mine/);
  assert.is(upCommand({ pinDir: '/sys/fs/bpf/sockaccel', cgroup: undefined, trace: false }), 'sudo sockaccel-ffi up');
});

test('renderStatus: not installed, and draining', () => {
  const text = renderStatus({ up: false, pinDir: '/sys/fs/bpf/sockaccel' });
  assert.match(text, /not installed/);
  assert.match(text, /install with: sudo sockaccel-ffi up   \(add --cgroup DIR to accelerate only that cgroup\)$/);
  assert.match(renderStatus({ up: false, pinDir: '/sys/fs/bpf/x' }), /up --pin-dir \/sys\/fs\/bpf\/x/);
  const draining = renderStatus({ ...upStatus, up: false, state: 'draining', sockops: undefined, connections: 1 });
  assert.match(draining, /^sockaccel: draining/);
  assert.match(draining, /1 socket \(1 connection\) now/);
  assert.not.match(draining, /sock_ops:/);
});

const zero: Stats = {
  socketsInserted: 0, insertFailures: 0, insertFailuresFull: 0, insertFailuresOther: 0, redirectedMessages: 0,
  redirectedBytes: 0, passedMessages: 0, passedBytes: 0, misses: 0, markFailures: 0, skippedEarlyData: 0, staleMarks: 0, marksCleared: 0,
  decisions: { redirect: 0, forced: 0, probation: 0, spliceReader: 0, blockingReader: 0, smallWrites: 0, excludedPort: 0, excludedCgroup: 0, readerSemantics: 0 },
  rescuedSplice: 0, rescuedHalfClose: 0, atRiskSplice: 0, atRiskBlocking: 0, demotedSmall: 0, observedSides: 0, spliceDirectionsMarked: 0,
};

test('renderStats and rates', () => {
  const s: Stats = { ...zero, redirectedBytes: 5 * 1024 * 1024, redirectedMessages: 1200, passedBytes: 512, passedMessages: 1, socketsInserted: 4 };
  const text = renderStats(s);
  assert.match(text, /redirected:\s+5\.0 MiB in 1,200 messages/);
  assert.match(text, /passed:\s+512 B in 1 message /);
  assert.match(text, /sockets tracked:\s+4/);
  assert.match(text, /skipped \(TFO\):\s+0/);
  assert.match(renderStats({ ...s, futureCounter: 7 } as Stats), /futureCounter:\s+7/);
  const decided = renderStats({ ...s, decisions: { ...zero.decisions, redirect: 6, probation: 2, spliceReader: 1, blockingReader: 3 }, rescuedHalfClose: 1 });
  assert.match(decided, /decisions:\s+per socket at ESTABLISHED: 6 redirected \(6 learned, 0 policy all\)/);
  assert.match(decided, /kept on TCP:\s+2 on probation, 1 splice reader, 3 blocking reader/);
  assert.match(decided, /rescued:\s+0 splice, 1 half-close; at risk: 0 splice, 0 blocking/);
  const rates = renderStatsRates(zero, s, 2000, new Date(2025, 0, 1, 12, 34, 56), 2);
  assert.match(rates, /^12:34:56 /);
  assert.match(rates, /redirected 2\.5 MiB\/s \(600\/s msgs\)/);
  assert.match(rates, /passed 256 B\/s/);
  assert.match(rates, /new sockets 2\/s/);
  assert.match(rates, /connections 2$/);
  assert.not.match(rates, /insert failures/);
  assert.match(renderStatsRates(zero, { ...zero, insertFailures: 3 }, 1000), /insert failures \+3/);
});

test('renderVerify', () => {
  const yes = renderVerify({ accelerated: true, payloadBytes: 16 * 1024 * 1024, loBytes: 700, redirectedBytes: 16 * 1024 * 1024, transports: [] });
  assert.match(yes, /payload sent:\s+16\.0 MiB/);
  assert.match(yes, /bytes through lo:\s+700 B/);
  assert.match(yes, /accelerated: yes$/);
  const no = renderVerify({ accelerated: false, payloadBytes: 1024, loBytes: 4096, redirectedBytes: 0, transports: [], reason: 'not up' });
  assert.match(no, /accelerated: no\n  why: not up$/);
});

test('renderDoctor', () => {
  const text = renderDoctor([
    { name: 'privileges', ok: false, detail: 'uid 1000', fix: 'run as root' },
    { name: 'kernel', ok: true, detail: 'Linux 6.1' },
    { name: 'sockhash', ok: true, detail: 'not checked: needs root', skipped: true } as never,
  ]);
  assert.match(text, /^FAIL  privileges  uid 1000\n\s+fix: run as root$/m);
  assert.match(text, /^ok    kernel      Linux 6\.1$/m);
  assert.match(text, /^skip  sockhash    not checked/m);
  assert.match(text, /1 check failed$/);
  assert.match(renderDoctor([{ name: 'kernel', ok: true, detail: 'x' }]), /all checks passed/);
});

test('renderDown and progress', () => {
  assert.match(renderDown({ wasUp: false, complete: true, remaining: 0, waitedMs: 0 }, '/p'), /not installed in \/p: nothing to do/);
  assert.match(renderDown({ wasUp: true, complete: true, remaining: 0, waitedMs: 0 }, '/p'), /^sockaccel: down \(detached and unpinned \/p\)$/);
  assert.match(renderDown({ wasUp: true, complete: false, remaining: 2, waitedMs: 30000 }, '/p'), /2 sockets \(1 connection\) still accelerated after 30s/);
  assert.is(renderDownProgress(3, 5000, 30000), 'waiting for 3 sockets (2 connections) to close (5s/30s)...');
  assert.is(renderDownProgress(1, 0, 30000), 'waiting for 1 socket (1 connection) to close (0s/30s)...');
});

test.run();
