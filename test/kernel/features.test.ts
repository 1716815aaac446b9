// The features API against the running kernel: what this host is known to have is present, what it
// lacks is absent with a reason that says what the kernel answered, answers are cached (a second
// question makes no bpf() call), and `sockaccel-ffi features --json` prints the same table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { features, haveHelper, haveLinkKind, haveMapType, haveProgramType, MapType, ProgType, resetProbes, type FeatureRow } from '../../src/index.js';
import { run } from '../../src/cli/program.js';
import { setBpfBackend } from '../../src/sys/syscall.js';
import { skipIf } from '../support/skip.js';

const [major, minor] = release().split('.').map(Number) as [number, number];
const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);

const present = suite('features: present on this kernel');

present('ring buffers, as a map type and as a named feature', () => {
  assert.equal(haveMapType(MapType.RINGBUF), { ok: true });
  assert.equal(haveLinkKind('ringbuf'), { ok: true });
});

skipIf(present, atLeast(6, 10) ? undefined : `kernel ${release()} is older than 6.10 (sockmap links)`)('sockmap links (6.10+)', () => {
  assert.equal(haveLinkKind('sockmap_link'), { ok: true });
});

skipIf(present, atLeast(6, 6) ? undefined : `kernel ${release()} is older than 6.6 (tcx)`)('tcx links (6.6+)', () => {
  assert.equal(haveLinkKind('tcx'), { ok: true });
});

present('what the accelerator and the loader rely on: sock_ops, sk_msg, SOCKHASH, tracepoints, raw tracepoints, uprobes', () => {
  for (const t of ['SOCK_OPS', 'SK_MSG', 'SOCKET_FILTER', 'XDP', 'SCHED_CLS', 'RAW_TRACEPOINT']) assert.equal(haveProgramType(t), { ok: true }, t);
  assert.equal(haveMapType('SOCKHASH'), { ok: true });
  assert.equal(haveHelper(ProgType.SK_MSG, 'msg_redirect_hash'), { ok: true });
  for (const k of ['tracepoint', 'raw_tracepoint', 'uprobe', 'cgroup_link', 'perf_link']) assert.equal(haveLinkKind(k), { ok: true }, k);
});

present('a helper a program type may not call is refused with the verifier\'s reason', () => {
  const a = haveHelper(ProgType.SOCKET_FILTER, 'msg_redirect_hash');
  assert.is(a.ok, false);
  // 6.x: "program of this type cannot use helper"; older kernels (6.1): "unknown func".
  assert.match(a.reason!, /bpf_msg_redirect_hash from a SOCKET_FILTER program \("(program of this type cannot use helper|unknown func) bpf_msg_redirect_hash#71"\): the helper is not available/);
});

present.run();

const absent = suite('features: absent, with a reason');

const kprobePmu = existsSync('/sys/bus/event_source/devices/kprobe/type');

absent('kprobe agrees with the kprobe PMU; without one (this host) it is absent, says why, and names the config', () => {
  const a = haveLinkKind('kprobe');
  if (kprobePmu) {
    assert.equal(a, { ok: true });
    return;
  }
  assert.is(a.ok, false);
  assert.match(a.reason!, /no kprobe PMU .*this kernel has no kprobes/);
  assert.is(a.needs, 'CONFIG_KPROBE_EVENTS');
});

// Asked once, at registration: where the kernel has kprobe_multi links there is nothing absent to check.
const kprobeMulti = haveLinkKind('kprobe_multi');
skipIf(absent, kprobeMulti.ok ? `kernel ${release()} has kprobe_multi links: nothing absent to check (6.1 and this host check it)` : undefined)('kprobe_multi where the kernel lacks it: absent with what LINK_CREATE answered', () => {
  const a = kprobeMulti;
  assert.is(a.ok, false);
  assert.match(a.reason!, /LINK_CREATE kprobe_multi answered|refused/);
});

absent('answers are cached: asking again makes no bpf() call', () => {
  resetProbes();
  const first = haveLinkKind('tcx');
  let calls = 0;
  const restore = setBpfBackend(() => { calls++; return { ret: -1, errno: 22 }; });
  try {
    assert.equal(haveLinkKind('tcx'), first);
    assert.equal(haveMapType(MapType.RINGBUF), haveMapType(MapType.RINGBUF));
  } finally {
    restore();
  }
  assert.is(calls, 1, 'only the RINGBUF probe, asked for the first time after the reset, reached the (fake) kernel');
  resetProbes();
});

absent('sockaccel-ffi features --all --json prints the same answers as features.table()', async () => {
  let out = '';
  const code = await run(['node', 'sockaccel-ffi', 'features', '--all', '--json'], { out: (t) => { out += t; }, err: () => {}, errIsTty: false });
  assert.is(code, 0);
  const rows = JSON.parse(out) as FeatureRow[];
  assert.equal(rows, features.table());
  assert.ok(rows.some((r) => r.group === 'map type' && r.name === 'RINGBUF' && r.ok));
  let text = '';
  await run(['node', 'sockaccel-ffi', 'features'], { out: (t) => { text += t; }, err: () => {}, errIsTty: false });
  assert.match(text, /^ {2}yes ringbuf/m);
  if (!kprobePmu) assert.match(text, /^ {2}no {2}kprobe .*\n +why: no kprobe PMU/m);
});

absent.run();
