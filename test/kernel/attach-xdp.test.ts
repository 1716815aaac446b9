// XDP on a veth pair between two network namespaces made here: a program that drops UDP datagrams
// to one port and counts them. Proven by what arrives on the other side (nothing while attached,
// everything after detach) and by the kernel's own view of the interface (netlink), for links in
// driver and generic mode, pinned links, the netlink fallback (forced) and its refusals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { attachXdp, BpfError, BpfLink, overrideProbe, UsageError, XdpLink, XdpNetlinkAttachment, xdpState, type LoadedProgram } from '../../src/index.js';
import { sh } from '../support/proc.js';
import { Scope } from '../support/scope.js';
import { exchange, udpSocket, vethPair, type VethPair, warmUp } from '../support/veth.js';
import { loadFixture, type Fixture } from './attach-helpers.js';
import { removePinDir, tempPinDir } from './helpers.js';

const t = suite('attach: XDP on veth');
const DROP = 4000;
const OTHER = 4001;

interface Net { pair: VethPair; send: (port: number, n: number) => Promise<string[]> }

async function setup(scope: Scope): Promise<Net> {
  const pair = vethPair(scope, 'xdp');
  const tx = udpSocket(scope, pair.a.netns, pair.a.ip, 0);
  const rx = { [DROP]: udpSocket(scope, pair.b.netns, pair.b.ip, DROP), [OTHER]: udpSocket(scope, pair.b.netns, pair.b.ip, OTHER) };
  // The first datagram waits for ARP; the path is proven to carry UDP before anything is attached.
  await warmUp(tx, rx[OTHER], pair.b.ip, OTHER);
  return { pair, send: (port, n) => exchange(tx, rx[port as 4000 | 4001], pair.b.ip, port, n) };
}

function load(): Fixture {
  return loadFixture('attach_net.bpf.o', ['xdp_drop', 'tc_drop'], { drop_port: DROP });
}
const xdp = (f: Fixture) => f.loaded.programs.get('xdp_drop') as LoadedProgram;

for (const mode of [undefined, 'driver', 'generic'] as const) {
  t(`an XdpLink${mode ? ` in ${mode} mode` : ' (default mode)'} drops exactly the datagrams to its port; close() restores the path`, async () => {
    const scope = new Scope('xdp');
    const f = load();
    try {
      const net = await setup(scope);
      const link = attachXdp(xdp(f), net.pair.b.ifname, { netns: net.pair.b.netns, mode });
      assert.instance(link, XdpLink);
      const ifindex = (JSON.parse(sh('ip', ['-n', net.pair.b.netns, '-j', 'link', 'show', net.pair.b.ifname])) as { ifindex: number }[])[0]!.ifindex;
      assert.is((link as XdpLink).info().detail.ifindex, ifindex, 'the kernel says the link is on vb');
      const state = xdpState(net.pair.b.ifname, { netns: net.pair.b.netns });
      assert.is(state.mode, mode ?? 'driver', 'veth runs XDP natively unless asked for generic');
      assert.is(state.progId, xdp(f).info().id);
      assert.equal(await net.send(DROP, 5), [], 'nothing to the drop port arrives');
      assert.is(f.get('xdp_dropped'), 5);
      assert.equal(await net.send(OTHER, 3), ['dgram 0', 'dgram 1', 'dgram 2'], 'other ports pass');
      link.close();
      assert.is(xdpState(net.pair.b.ifname, { netns: net.pair.b.netns }).mode, 'none');
      assert.equal(await net.send(DROP, 2), ['dgram 0', 'dgram 1'], 'detached: the drop port receives again');
      assert.is(f.get('xdp_dropped'), 5);
    } finally {
      f.close();
      await scope.close();
    }
  });
}

t('a pinned XdpLink outlives close(); BPF_LINK_DETACH takes it off while the pin remains', async () => {
  const scope = new Scope('xdp-pin');
  const dir = tempPinDir('xdp');
  const f = load();
  try {
    const net = await setup(scope);
    const link = attachXdp(xdp(f), net.pair.b.ifname, { netns: net.pair.b.netns });
    link.pin(`${dir}/xdp`);
    link.close();
    assert.equal(await net.send(DROP, 2), []);
    const again = BpfLink.fromPin(`${dir}/xdp`);
    assert.instance(again, XdpLink);
    again.detach();
    assert.equal(await net.send(DROP, 2), ['dgram 0', 'dgram 1'], 'detached although still pinned');
    again.close();
    rmSync(`${dir}/xdp`);
  } finally {
    f.close();
    removePinDir(dir);
    await scope.close();
  }
});

t('netlink (kernels without XDP links, forced by the probe): drops, updates in place, detaches only its own program', async () => {
  const scope = new Scope('xdp-nl');
  const f = load();
  overrideProbe('xdp-links', false);
  try {
    const net = await setup(scope);
    const a = attachXdp(xdp(f), net.pair.b.ifname, { netns: net.pair.b.netns, mode: 'generic' }) as XdpNetlinkAttachment;
    assert.instance(a, XdpNetlinkAttachment);
    assert.is(a.method, 'netlink');
    assert.is(a.state().mode, 'generic');
    assert.equal(await net.send(DROP, 4), []);
    assert.is(f.get('xdp_dropped'), 4);
    // A second program is refused rather than replacing ours; so is a link over it.
    const other = loadFixture('attach_net.bpf.o', ['xdp_drop'], { drop_port: OTHER });
    try {
      assert.throws(() => attachXdp(other.loaded.programs.get('xdp_drop')!, net.pair.b.ifname, { netns: net.pair.b.netns, mode: 'generic' }),
        (e: unknown) => e instanceof BpfError && /another XDP program is attached/.test(e.hint ?? ''));
      assert.throws(() => attachXdp(other.loaded.programs.get('xdp_drop')!, net.pair.b.ifname, { netns: net.pair.b.netns, mode: 'generic', method: 'link' }),
        (e: unknown) => e instanceof BpfError && e.code === 'EBUSY');
      assert.throws(() => a.pin(`${tempPinDir('x')}/x`), (e: unknown) => e instanceof UsageError && e.code === 'NOT_SUPPORTED');
      a.update(other.loaded.programs.get('xdp_drop')!);
      assert.is(a.state().progId, other.loaded.programs.get('xdp_drop')!.info().id, 'replaced in place');
      assert.equal(await net.send(DROP, 1), ['dgram 0'], 'the new program drops the other port instead');
      assert.equal(await net.send(OTHER, 2), []);
      assert.is(other.get('xdp_dropped'), 2);
      assert.is(a.detach(), true);
      assert.is(a.detach(), false, 'once');
    } finally {
      other.close();
    }
    assert.is(xdpState(net.pair.b.ifname, { netns: net.pair.b.netns }).mode, 'none');
    assert.equal(await net.send(OTHER, 1), ['dgram 0']);
  } finally {
    overrideProbe('xdp-links', undefined);
    f.close();
    await scope.close();
  }
});

t('refusals say why: offload on veth, a tc program, an interface that does not exist', async () => {
  const scope = new Scope('xdp-err');
  const f = load();
  try {
    const net = await setup(scope);
    assert.throws(() => attachXdp(xdp(f), net.pair.b.ifname, { netns: net.pair.b.netns, mode: 'offload' }),
      (e: unknown) => e instanceof BpfError && /offload/.test(`${e.hint}`));
    assert.throws(() => attachXdp(f.loaded.programs.get('tc_drop')!, net.pair.b.ifname, { netns: net.pair.b.netns }), (e: unknown) => e instanceof UsageError && /not an XDP program/.test(e.message));
    assert.throws(() => attachXdp(xdp(f), 'nosuch0', { netns: net.pair.b.netns }), (e: unknown) => e instanceof UsageError && /no network interface "nosuch0" in network namespace/.test(e.message));
    assert.throws(() => xdp(f).attach(), (e: unknown) => e instanceof UsageError && /attaches to a network interface/.test(e.message) && /interface: 'eth0'/.test(e.hint ?? ''));
    const bySection = xdp(f).attach({ interface: net.pair.b.ifname, netns: net.pair.b.netns });
    assert.instance(bySection, XdpLink);
    bySection.close();
  } finally {
    f.close();
    await scope.close();
  }
});

t.run();
