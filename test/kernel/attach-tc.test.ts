// tc on a veth pair between two network namespaces made here: tcx links (6.6+) on ingress and egress
// with their run order (first/before/after, checked by the programs themselves and by the kernel's
// query), and the clsact + cls_bpf netlink fallback (forced with method and with overrideProbe),
// each proven by the datagrams that do and do not arrive; every path leaves the interface as it was.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  attachTc, BpfError, hasTcxLinks, overrideProbe, TcFilterAttachment, TcxLink, tcHook, UsageError, type LoadedProgram,
} from '../../src/index.js';
import { sh } from '../support/proc.js';
import { Scope } from '../support/scope.js';
import { skipIf } from '../support/skip.js';
import { exchange, udpSocket, vethPair, warmUp, type VethPair } from '../support/veth.js';
import { loadFixture, type Fixture } from './attach-helpers.js';

const t = suite('attach: tc (tcx links, clsact + cls_bpf)');
const tcxTest = skipIf(t, hasTcxLinks() ? undefined : 'this kernel has no tcx links (6.6+): the netlink tests cover it');
const DROP = 4100;
const OTHER = 4101;

interface Net { pair: VethPair; send: (port: number, n: number) => Promise<string[]> }

async function setup(scope: Scope): Promise<Net> {
  const pair = vethPair(scope, 'tc');
  const tx = udpSocket(scope, pair.a.netns, pair.a.ip, 0);
  const rx = { [DROP]: udpSocket(scope, pair.b.netns, pair.b.ip, DROP), [OTHER]: udpSocket(scope, pair.b.netns, pair.b.ip, OTHER) };
  await warmUp(tx, rx[OTHER], pair.b.ip, OTHER);
  return { pair, send: (port, n) => exchange(tx, rx[port as 4100 | 4101], pair.b.ip, port, n) };
}

const load = (): Fixture => loadFixture('attach_net.bpf.o', ['tc_drop', 'tc_first', 'tc_second', 'tcx_count', 'xdp_drop'], { drop_port: DROP });
const p = (f: Fixture, n: string) => f.loaded.programs.get(n) as LoadedProgram;
const qdiscs = (ns: string, dev: string) => sh('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show', 'dev', dev]);

tcxTest('tcx ingress: drops exactly the datagrams to its port; the hook lists it; close() restores', async () => {
  const scope = new Scope('tcx');
  const f = load();
  try {
    const net = await setup(scope);
    const link = attachTc(p(f, 'tc_drop'), net.pair.b.ifname, { netns: net.pair.b.netns, direction: 'ingress' });
    assert.instance(link, TcxLink);
    assert.equal(tcHook(net.pair.b.ifname, 'ingress', { netns: net.pair.b.netns }).programs, [p(f, 'tc_drop').info().id]);
    assert.equal(await net.send(DROP, 4), []);
    assert.is(f.get('tc_dropped'), 4);
    assert.equal(await net.send(OTHER, 2), ['dgram 0', 'dgram 1']);
    link.close();
    assert.equal(tcHook(net.pair.b.ifname, 'ingress', { netns: net.pair.b.netns }).programs, []);
    assert.equal(await net.send(DROP, 2), ['dgram 0', 'dgram 1']);
  } finally {
    f.close();
    await scope.close();
  }
});

tcxTest('tcx egress on the sending side drops what is sent', async () => {
  const scope = new Scope('tcx-eg');
  const f = load();
  try {
    const net = await setup(scope);
    const link = attachTc(p(f, 'tc_drop'), net.pair.a.ifname, { netns: net.pair.a.netns, direction: 'egress' });
    assert.equal(await net.send(DROP, 3), []);
    assert.is(f.get('tc_dropped'), 3);
    link.close();
    assert.equal(await net.send(DROP, 1), ['dgram 0']);
  } finally {
    f.close();
    await scope.close();
  }
});

tcxTest('tcx order: "before" an attached program (and a link) runs first; the revision guards changes', async () => {
  const scope = new Scope('tcx-order');
  const f = load();
  try {
    const net = await setup(scope);
    const ns = { netns: net.pair.b.netns, direction: 'ingress' as const };
    const second = attachTc(p(f, 'tc_second'), net.pair.b.ifname, ns) as TcxLink;
    const rev = tcHook(net.pair.b.ifname, 'ingress', { netns: net.pair.b.netns }).revision;
    const first = attachTc(p(f, 'tc_first'), net.pair.b.ifname, { ...ns, before: second, expectedRevision: rev });
    const hook = tcHook(net.pair.b.ifname, 'ingress', { netns: net.pair.b.netns });
    assert.equal(hook.programs, [p(f, 'tc_first').info().id, p(f, 'tc_second').info().id], 'the kernel runs tc_first first');
    assert.equal(hook.links, [(first as TcxLink).info().id, second.info().id]);
    assert.equal(await net.send(DROP, 1), ['dgram 0'], 'both pass it on');
    assert.is(f.get('first_order'), 1);
    assert.is(f.get('second_order'), 2);
    // A stale revision is refused, naming it; the same program twice too.
    assert.throws(() => attachTc(p(f, 'tc_drop'), net.pair.b.ifname, { ...ns, last: true, expectedRevision: rev }),
      (e: unknown) => e instanceof BpfError && /changed since revision/.test(e.hint ?? ''));
    assert.throws(() => attachTc(p(f, 'tc_first'), net.pair.b.ifname, ns), (e: unknown) => e instanceof BpfError && /already attached/.test(e.hint ?? ''));
    const last = attachTc(p(f, 'tc_drop'), net.pair.b.ifname, { ...ns, after: p(f, 'tc_second') });
    assert.is(tcHook(net.pair.b.ifname, 'ingress', { netns: net.pair.b.netns }).programs.at(-1), p(f, 'tc_drop').info().id);
    for (const l of [first, second, last]) l.close();
  } finally {
    f.close();
    await scope.close();
  }
});

tcxTest('by section: SEC("tcx/ingress") attaches to ingress with only an interface', async () => {
  const scope = new Scope('tcx-sec');
  const f = load();
  try {
    const net = await setup(scope);
    const link = p(f, 'tcx_count').attach({ interface: net.pair.b.ifname, netns: net.pair.b.netns });
    assert.instance(link, TcxLink);
    assert.equal(await net.send(DROP, 3), ['dgram 0', 'dgram 1', 'dgram 2']);
    assert.is(f.get('tcx_seen'), 3);
    link.close();
    assert.throws(() => p(f, 'tc_drop').attach({ interface: net.pair.b.ifname, netns: net.pair.b.netns }), (e: unknown) => e instanceof UsageError && /say which hook/.test(e.message));
  } finally {
    f.close();
    await scope.close();
  }
});

for (const how of ['method "netlink"', 'no tcx (probe forced false)'] as const) {
  t(`netlink (${how}): a clsact qdisc + cls_bpf filter that drops, updates in place, and goes with its qdisc`, async () => {
    const scope = new Scope('tc-nl');
    const f = load();
    if (how !== 'method "netlink"') overrideProbe('tcx-links', false);
    try {
      const net = await setup(scope);
      const { netns } = net.pair.b;
      const a = attachTc(p(f, 'tc_drop'), net.pair.b.ifname, { netns, direction: 'ingress', ...(how === 'method "netlink"' ? { method: 'netlink' as const } : {}) }) as TcFilterAttachment;
      assert.instance(a, TcFilterAttachment);
      assert.ok(a.createdQdisc);
      assert.match(qdiscs(netns, net.pair.b.ifname), /clsact/);
      assert.match(sh('ip', ['netns', 'exec', netns, 'tc', 'filter', 'show', 'dev', net.pair.b.ifname, 'ingress']), /bpf .*tc_drop.*direct-action/);
      assert.ok(a.priority > 0 && a.handle > 0, `the kernel chose prio ${a.priority} handle ${a.handle}`);
      assert.equal(await net.send(DROP, 3), []);
      assert.is(f.get('tc_dropped'), 3);
      // Ordering is a tcx feature: asked for on netlink, it says so.
      assert.throws(() => attachTc(p(f, 'tc_first'), net.pair.b.ifname, { netns, direction: 'ingress', method: 'netlink', first: true }),
        (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /priority/.test(e.hint ?? ''));
      a.update(p(f, 'tc_first'));
      assert.equal(await net.send(DROP, 1), ['dgram 0'], 'replaced: the new program passes it');
      assert.is(f.get('first_order'), 1);
      a.close();
      assert.not.match(qdiscs(netns, net.pair.b.ifname), /clsact/, 'the qdisc it made is gone with its last filter');
      assert.equal(await net.send(DROP, 1), ['dgram 0']);
    } finally {
      overrideProbe('tcx-links', undefined);
      f.close();
      await scope.close();
    }
  });
}

t('netlink: a filter added to an existing clsact leaves the qdisc; a filter removed by someone else is not removed again', async () => {
  const scope = new Scope('tc-nl2');
  const f = load();
  try {
    const net = await setup(scope);
    const { netns, ifname } = net.pair.b;
    sh('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'add', 'dev', ifname, 'clsact']);
    const a = attachTc(p(f, 'tc_drop'), ifname, { netns, direction: 'ingress', method: 'netlink', priority: 7 }) as TcFilterAttachment;
    assert.not.ok(a.createdQdisc);
    assert.is(a.priority, 7);
    const other = attachTc(p(f, 'tc_second'), ifname, { netns, direction: 'ingress', method: 'netlink', priority: 8 }) as TcFilterAttachment;
    assert.equal(await net.send(DROP, 2), []);
    // Someone else removes our filter (tc filter del): detach() finds nothing of ours.
    sh('ip', ['netns', 'exec', netns, 'tc', 'filter', 'del', 'dev', ifname, 'ingress', 'prio', '7']);
    assert.is(a.detach(), false, 'the filter is gone: nothing of ours to remove');
    assert.is(other.detach(), true);
    assert.match(qdiscs(netns, ifname), /clsact/, 'not our qdisc: left');
    assert.throws(() => attachTc(p(f, 'xdp_drop'), ifname, { netns, direction: 'ingress' }), (e: unknown) => e instanceof UsageError && /not a tc program/.test(e.message));
  } finally {
    f.close();
    await scope.close();
  }
});

t.run();
