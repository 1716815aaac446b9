// What older kernels lack, tested on whatever kernel runs this (the host, and the 6.1 / 6.12 VMs of
// `npm run test:vm`): the probes agree with the kernel's version, and each missing feature is a
// tested fallback or a clear error. The "kernel lacks it" paths also run here by overriding a probe.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BpfError, BpfMap, BpfObject, helperProbeName, hasMapType, hasSockmapLinks, mapAttachment, MapType, overrideProbe, ProgType, resetProbes, UsageError } from '../../src/index.js';
import { down, doctor, hasNetnsCookieInSockops, status, up } from '../../src/accel/index.js';
import { AttachType } from '../../src/uapi/enums.js';
import { progQuery } from '../../src/sys/commands.js';
import { OBJ, shippedObject } from '../../src/accel/layout.js';
import { removePinDir, shippedCore, tempPinDir } from './helpers.js';
import { skipIf } from '../support/skip.js';

const [major, minor] = release().split('.').map(Number);
const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);

function cgroup2Root(): string {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount');
  return line.split(' ')[1];
}

/** A fresh, empty child cgroup (never the root): nothing runs in it, so attaching there is harmless. */
function emptyCgroup(): string {
  const dir = join(cgroup2Root(), `sockaccel-compat-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  return dir;
}

function sockmapProgIds(map: BpfMap): number[] {
  return progQuery(map.fd, AttachType.SK_MSG_VERDICT, 'the sockhash').ids;
}

const probes = suite('compat: probes');

probes.after.each(() => resetProbes());

probes(`the probes agree with the kernel's version (${release()})`, () => {
  console.log(`  kernel ${release()}: sockmap links ${hasSockmapLinks()}, netns cookie in sock_ops ${hasNetnsCookieInSockops()}, sockhash ${hasMapType(MapType.SOCKHASH)}`);
  assert.is(hasMapType(MapType.SOCKHASH), true);
  assert.is(hasSockmapLinks(), atLeast(6, 10), 'bpf_link on a SOCKHASH from 6.10');
  assert.is(hasNetnsCookieInSockops(), atLeast(5, 15), 'bpf_get_netns_cookie in sock_ops from 5.15');
});

probes('overrideProbe answers instead of the kernel, and undefined asks the kernel again', () => {
  const real = hasSockmapLinks();
  overrideProbe('sockmap-links', !real);
  assert.is(hasSockmapLinks(), !real);
  overrideProbe('sockmap-links', undefined);
  assert.is(hasSockmapLinks(), real);
});
probes.run();

const attach = suite('compat: sk_msg on the SOCKHASH');

attach.after.each(() => resetProbes());

attach('the default method follows the probe; the attachment is there, and gone after detach', async () => {
  const loaded = (await shippedCore()).load();
  try {
    const map = loaded.maps.get(OBJ.sockHash)!;
    const prog = loaded.programs.get(OBJ.msgProgram)!;
    const link = prog.attachToMap(map);
    try {
      assert.is(link.method, hasSockmapLinks() ? 'link' : 'prog_attach', atLeast(6, 10) ? 'bpf_link on 6.10+' : 'PROG_ATTACH before 6.10');
      assert.equal(sockmapProgIds(map), [prog.info().id], 'BPF_PROG_QUERY on the map names our program');
      link.detach();
      assert.equal(sockmapProgIds(map), [], 'nothing attached after detach');
    } finally {
      link.close();
    }
  } finally {
    loaded.close();
  }
});

attach('PROG_ATTACH (the fallback before 6.10) attaches and PROG_DETACH detaches, on any kernel', async () => {
  const loaded = (await shippedCore()).load();
  try {
    const map = loaded.maps.get(OBJ.sockHash)!;
    const prog = loaded.programs.get(OBJ.msgProgram)!;
    overrideProbe('sockmap-links', false);
    const link = prog.attachToMap(map);
    try {
      assert.is(link.method, 'prog_attach');
      assert.equal(sockmapProgIds(map), [prog.info().id]);
      link.detach();
      assert.equal(sockmapProgIds(map), []);
      const again = mapAttachment(prog, map, AttachType.SK_MSG_VERDICT);
      try {
        assert.is(again.detach({ ifAttached: true }), false, 'a second PROG_DETACH finds nothing (ifAttached)');
        try {
          again.detach();
          assert.unreachable('a second PROG_DETACH finds nothing');
        } catch (e) {
          assert.instance(e, BpfError);
          assert.is((e as BpfError).code, 'ENOENT');
        }
      } finally {
        again.close();
      }
    } finally {
      link.close();
    }
  } finally {
    loaded.close();
  }
});

// Decided when the file loads, so that on 6.10+ it is counted as skipped, not as passed.
const refusalSkip = (() => {
  try {
    return hasSockmapLinks() ? `kernel ${release()} has sockmap links: nothing to refuse here (the VM run on 6.1 checks this)` : undefined;
  } catch {
    return undefined; // the probe itself failed: let the test run and say so
  } finally {
    resetProbes();
  }
})();
skipIf(attach, refusalSkip)('method "link" where the kernel has no sockmap links: a clear error naming 6.10 and the fallback', async () => {
  const loaded = (await shippedCore()).load();
  try {
    const map = loaded.maps.get(OBJ.sockHash)!;
    try {
      loaded.programs.get(OBJ.msgProgram)!.attachToMap(map, { method: 'link' });
      assert.unreachable('no bpf_link on a sockhash before 6.10');
    } catch (e) {
      assert.instance(e, BpfError);
      assert.match((e as BpfError).hint ?? '', /6\.10\+.*prog_attach/);
    }
    assert.equal(sockmapProgIds(map), []);
  } finally {
    loaded.close();
  }
});
attach.run();

const accel = suite('compat: up and down');

accel.after.each(() => resetProbes());

async function upDown(forceFallback: boolean): Promise<void> {
  const cgroup = emptyCgroup();
  const pinDir = tempPinDir('compat');
  let map: BpfMap | undefined;
  try {
    if (forceFallback) overrideProbe('sockmap-links', false);
    const r = await up({ cgroup, pinDir, maxEntries: 16 });
    const expected = forceFallback || !hasSockmapLinks() ? 'prog_attach' : 'link';
    assert.is(r.status.msg!.method, expected);
    assert.is(existsSync(join(pinDir, 'link_msg')), expected === 'link', 'only a bpf_link is pinned');
    map = BpfMap.fromPin(join(pinDir, 'sock_hash'));
    assert.equal(sockmapProgIds(map), [r.status.msg!.programId]);
    const said: string[] = [];
    const d = await down({ pinDir, timeoutMs: 5000, explain: (l: string) => said.push(l) });
    assert.ok(d.complete, 'down completes');
    if (expected === 'prog_attach') assert.ok(said.some((l) => /detached program sockaccel_msg \(SK_MSG\) to map sock_hash \(SK_MSG_VERDICT\) \(BPF_PROG_DETACH\)/.test(l)), said.join('\n'));
    assert.equal(sockmapProgIds(map), [], 'down detached sk_msg from the map');
    assert.not.ok(existsSync(pinDir), 'and removed every pin');
    assert.is(status({ pinDir }).up, false);
  } finally {
    map?.close();
    if (existsSync(pinDir)) await down({ pinDir, force: true }).catch(() => undefined);
    removePinDir(pinDir);
    rmdirSync(cgroup);
  }
}

accel('up/down with what this kernel has (PROG_ATTACH for sk_msg before 6.10)', () => upDown(false));

accel('up/down on the PROG_ATTACH fallback (as before 6.10), on any kernel', () => upDown(true));

accel('without bpf_get_netns_cookie in sock_ops (before 5.15): up refuses with "needs Linux 5.15", doctor says 5.15', async () => {
  const cgroup = emptyCgroup();
  const pinDir = tempPinDir('compat');
  try {
    overrideProbe(helperProbeName(ProgType.SOCK_OPS, 'get_netns_cookie'), false);
    try {
      await up({ cgroup, pinDir });
      assert.unreachable('up must refuse');
    } catch (e) {
      assert.instance(e, UsageError);
      assert.is((e as UsageError).code, 'NOT_SUPPORTED');
      assert.match((e as Error).message, /bpf_get_netns_cookie/);
      assert.match((e as UsageError).hint ?? '', /needs Linux 5\.15 or newer/);
    }
    assert.is(existsSync(pinDir) ? readdirSync(pinDir).length : 0, 0, 'nothing pinned');
    const check = doctor().find((c: { name: string }) => c.name === 'netns-cookie')!;
    assert.is(check.ok, false);
    assert.match(check.fix ?? '', /5\.15/);
  } finally {
    removePinDir(pinDir);
    rmdirSync(cgroup);
  }
});
accel.run();
