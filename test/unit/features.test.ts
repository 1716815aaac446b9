// The features API without a kernel: every answer here is decided by overridden probes, so what is
// tested is the shape of the answers — ok, the reason, and the "needs kernel X / CONFIG_Y" text from
// the table of releases — the caching, and the CLI's rendering of the table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { features, haveHelper, haveLinkKind, haveMapType, haveProgramType, featureTable, needsText, overrideFeature, overrideProbe, resetProbes, MapType, ProgType, UsageError } from '../../src/index.js';
import { MAP_TYPES, NAMED, PROGRAM_TYPES } from '../../src/features/requirements.js';
import { renderFeatures } from '../../src/cli/features.js';
import { helperProbeName } from '../../src/features/probe.js';
import { setBpfBackend } from '../../src/sys/syscall.js';

/** No bpf() call may reach a kernel in these tests: every answer must come from an override. */
function noKernel<T>(body: () => T): T {
  const restore = setBpfBackend((cmd) => { throw new Error(`a probe reached the kernel (bpf command ${cmd})`); });
  try {
    return body();
  } finally {
    restore();
    resetProbes();
  }
}

test('needs: "kernel X" on an older kernel, the config symbol on a new enough one, nothing when that symbol is set', () => {
  assert.is(needsText(NAMED.tcx, [6, 1], () => undefined), 'kernel 6.6');
  assert.is(needsText(NAMED.tcx, [5, 15], () => true), 'kernel 6.6', 'an older kernel needs the release whatever its config');
  assert.is(needsText(NAMED.netkit, [6, 18], () => false), 'CONFIG_NETKIT');
  assert.is(needsText(NAMED.netkit, [6, 18], () => undefined), 'CONFIG_NETKIT', 'config unreadable: name the symbol');
  assert.is(needsText(NAMED.netkit, [6, 18], () => true), undefined, 'the symbol is set: the table has nothing to add');
  assert.is(needsText(NAMED.sockmap_link, [6, 9], () => true), 'kernel 6.10');
  assert.is(needsText(NAMED.ringbuf, [6, 18], () => false), undefined, 'no config symbol to name');
  assert.is(needsText(MAP_TYPES.ARENA, [6, 8], () => true), 'kernel 6.9');
});

test('the table has a release for every map type and program type the uapi enums know', () => {
  for (const name of Object.keys(MapType)) if (name !== 'UNSPEC') assert.ok(MAP_TYPES[name], `map type ${name}`);
  for (const name of Object.keys(ProgType)) if (name !== 'UNSPEC') assert.ok(PROGRAM_TYPES[name], `program type ${name}`);
  for (const [name, r] of [...Object.entries(MAP_TYPES), ...Object.entries(PROGRAM_TYPES), ...Object.entries(NAMED)]) {
    assert.match(r.kernel, /^\d+\.\d+$/, name);
    if (r.config) assert.match(r.config, /^CONFIG_[A-Z0-9_]+$/, name);
  }
});

test('an overridden link kind answers ok, or no with the reason given and a needs text from the table', () => {
  noKernel(() => {
    overrideFeature({ feature: 'tcx' }, true);
    assert.equal(haveLinkKind('tcx'), { ok: true });
    overrideFeature({ feature: 'netkit' }, false, 'LINK_CREATE answered EINVAL');
    const a = features.haveLinkKind('netkit');
    assert.is(a.ok, false);
    assert.is(a.reason, 'LINK_CREATE answered EINVAL');
    assert.is(a.needs, needsText(NAMED.netkit));
    overrideFeature({ feature: 'kprobe' }, false);
    assert.match(haveLinkKind('kprobe').reason!, /kprobes\/kretprobes/, 'without a recorded reason, the feature is named');
    assert.equal(features.haveAttachKind('tcx'), haveLinkKind('tcx'), 'haveAttachKind is haveLinkKind');
  });
});

test('ringbuf and arena answer as their map types, sockmap_link as the sockmap-links probe: one override decides both', () => {
  noKernel(() => {
    overrideFeature({ mapType: MapType.RINGBUF }, false, 'BPF_MAP_CREATE answered EINVAL');
    assert.equal(haveMapType('RINGBUF'), { ok: false, reason: 'BPF_MAP_CREATE answered EINVAL', ...(needsText(MAP_TYPES.RINGBUF) ? { needs: needsText(MAP_TYPES.RINGBUF) } : {}) });
    assert.is(haveLinkKind('ringbuf').ok, false);
    assert.is(haveLinkKind('ringbuf').reason, 'BPF_MAP_CREATE answered EINVAL');
    overrideFeature({ feature: 'ringbuf' }, true);
    assert.is(haveMapType(MapType.RINGBUF).ok, true, 'overriding the feature overrides the map type');
    overrideProbe('sockmap-links', false);
    assert.is(haveLinkKind('sockmap_link').ok, false);
    assert.match(haveLinkKind('sockmap_link').reason!, /PROG_ATTACH/);
    overrideProbe('sockmap-links', true);
    assert.is(haveLinkKind('sockmap_link').ok, true);
  });
});

test('haveHelper: the program type first, then the helper; names with or without bpf_', () => {
  noKernel(() => {
    overrideFeature({ programType: ProgType.LSM }, false, 'EPERM');
    const lsm = haveHelper('LSM', 'bpf_ringbuf_output');
    assert.is(lsm.ok, false);
    assert.match(lsm.reason!, /^LSM programs themselves: EPERM/);
    overrideFeature({ programType: ProgType.SK_MSG }, true);
    overrideFeature({ helper: [ProgType.SK_MSG, 'msg_redirect_hash'] }, true);
    assert.equal(haveHelper(ProgType.SK_MSG, 'msg_redirect_hash'), { ok: true });
    assert.equal(haveHelper(ProgType.SK_MSG, 'bpf_msg_redirect_hash'), { ok: true });
    overrideFeature({ helper: [ProgType.SK_MSG, 'ringbuf_output'] }, false);
    // The kernel's BTF (when this machine has one) tells "unknown helper" from "not for this type".
    assert.match(haveHelper(ProgType.SK_MSG, 'ringbuf_output').reason!, /bpf_ringbuf_output/);
  });
});

test('unknown names are usage errors that list the known ones', () => {
  for (const f of [() => haveMapType('NOPE'), () => haveProgramType(999), () => haveLinkKind('tcy'), () => haveHelper('XDP', 'no_such_helper')]) {
    try {
      f();
      assert.unreachable('must throw');
    } catch (e) {
      assert.instance(e, UsageError);
      assert.is((e as UsageError).code, 'BAD_ARGUMENT');
    }
  }
  try { haveLinkKind('tcy'); } catch (e) { assert.match((e as Error).message, /one of: kprobe, .*tcx/); }
});

test('featureTable and its rendering: every feature, why and needs for the missing ones', () => {
  noKernel(() => {
    for (const name of features.names) overrideFeature({ feature: name }, name !== 'netkit', name === 'netkit' ? 'LINK_CREATE answered EINVAL' : undefined);
    overrideProbe('sockmap-links', true);
    overrideProbe('uprobe-multi-link', true);
    overrideProbe(helperProbeName(ProgType.TRACEPOINT, 'get_attach_cookie'), true);
    const rows = featureTable(['attach/link']);
    assert.equal(rows.map((r) => r.name), features.names);
    assert.equal(rows.filter((r) => !r.ok).map((r) => r.name), ['netkit']);
    const text = renderFeatures(rows);
    assert.match(text, /^attach and link kinds:$/m);
    assert.match(text, /^ {2}yes tcx +tcx links .*\(since 6\.6, CONFIG_NET_XGRESS\)$/m);
    assert.match(text, /^ {2}no {2}netkit .*\n +why: LINK_CREATE answered EINVAL/m);
    assert.match(text, new RegExp(`${rows.length - 1} of ${rows.length} present$`));
  });
});

test.run();
