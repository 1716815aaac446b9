// The zero-copy socket paths applications use, inside the accelerated cgroup:
//  - sendfile() on the sending side (python socket.sendfile; nginx and friends serve files this way):
//    the file must arrive bit-exact, and once the service is learned (a first download on plain
//    TCP) the next download is accelerated;
//  - splice() on the receiving side (socket -> pipe; Go's io.Copy between TCP connections, HAProxy,
//    socat...): every byte must come out of the pipe, exactly as without us, on the first
//    connection (observed on TCP) and on the later ones (the splicing side stays on TCP).
// Under the default policy (learn), as users run it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { kernelAtLeast } from '../../src/index.js';
import { finished, freePort, loTxBytes, payload, sha256, sharedSetup, startPyPeer, type Where } from '../support/index.js';
import { accelUp, MB, fmt, note, statsDelta } from '../support/accel.js';

/** Kernels before 6.5 send a sendfile() through ->sendpage, which the write observers do not see. */
const SENDPAGE_KERNEL = !kernelAtLeast(6, 5);

const FILE_SIZE = 20 * MB + 17;
const SPLICE_SIZE = 5 * MB + 3;

const shared = sharedSetup('zerocopy', async (scope) => {
  const dir = mkdtempSync(join(tmpdir(), 'sae2e-zc-'));
  scope.defer(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const data = payload('sendfile', FILE_SIZE);
  writeFileSync(join(dir, 'f'), data);
  const cgroup = scope.cgroup('accel');
  const control = scope.cgroup('control');
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir });
  return { scope, file: join(dir, 'f'), sha: sha256(data), cgroup, control, pinDir };
});
const t = suite('e2e: sendfile and splice');
t.after(() => shared.close());

t('sendfile() sender, recv() reader: the file arrives bit-exact, the second download off lo', async () => {
  const ctx = await shared.get();
  const where: Where = { cgroup: ctx.cgroup };
  const port = freePort();
  const srv = await startPyPeer(ctx.scope, where, 60_000, 'sendfile-server', port, ctx.file, 2);
  await srv.waitLine(/^LISTENING/, 10_000);
  const first = await finished(await startPyPeer(ctx.scope, where, 30_000, 'sink-client', port), 'first sink client');
  assert.is(first.result?.sha256, ctx.sha, `first download (plain TCP, observed): ${JSON.stringify(first.result)}`);
  const lo0 = loTxBytes();
  const { result: r, delta } = await statsDelta(ctx.pinDir, async () => {
    const c = await finished(await startPyPeer(ctx.scope, where, 30_000, 'sink-client', port), 'sink client');
    return { c, s: await finished(srv, 'sendfile server') };
  });
  const lo = loTxBytes() - lo0;
  note('sendfile', { lo, delta });
  assert.ok(r.c.result && r.s.result, `missing results: ${r.c.exit.stdout} ${r.c.exit.stderr} / ${r.s.exit.stdout} ${r.s.exit.stderr}`);
  assert.equal({ client: r.c.result.error, server: r.s.result.error }, { client: undefined, server: undefined },
    `errors: client ${r.c.result.error} during "${r.c.result.stage}", server ${r.s.result.error} during "${r.s.result.stage}"`);
  assert.equal(r.s.result.each, [FILE_SIZE, FILE_SIZE], 'sendfile sent the whole file twice');
  assert.is(r.c.result.bytes, FILE_SIZE, 'bytes received');
  assert.is(r.c.result.sha256, ctx.sha, 'received sha256 == file sha256');
  if (SENDPAGE_KERNEL) {
    // Before 6.5 sendfile() reaches TCP through ->sendpage, not tcp_sendmsg: the write observer never
    // sees the file's bytes, so the service is never learned as bulk and stays on TCP (safe, not faster).
    assert.is(delta.decisions.redirect, 0, `kernel ${release()}: sendfile's service stays on TCP (decisions: ${JSON.stringify(delta)})`);
    assert.is(delta.redirectedBytes, 0);
    return;
  }
  assert.is(delta.decisions.redirect, 2, `the second connection was accelerated, both ends (decisions: ${JSON.stringify(delta)})`);
  assert.ok(lo < 0.01 * FILE_SIZE, `lo grew by ${fmt(lo)} for a ${fmt(FILE_SIZE)}-byte file: sendfile is not accelerated`);
  assert.ok(delta.redirectedBytes >= FILE_SIZE, `redirectedBytes grew by ${fmt(delta.redirectedBytes)}`);
});

const SPLICE_CONNS = 3;

async function spliceRun(ctx: Awaited<ReturnType<typeof shared.get>>, where: Where) {
  const port = freePort();
  const srv = await startPyPeer(ctx.scope, where, 30_000, 'splice-server', port, SPLICE_CONNS);
  await srv.waitLine(/^LISTENING/, 10_000);
  const clients = [];
  for (let i = 0; i < SPLICE_CONNS; i++) {
    const cl = await startPyPeer(ctx.scope, where, 15_000, 'source-client', port, SPLICE_SIZE, `splice-${i}`);
    clients.push(await finished(cl, `source client #${i}`));
  }
  return { clients, s: await finished(srv, 'splice server') };
}

t(`splice() reader (socket -> pipe), ${SPLICE_CONNS} connections: every byte, as without us`, async () => {
  const ctx = await shared.get();
  const ctl = await spliceRun(ctx, { cgroup: ctx.control });
  assert.ok(ctl.s.result, 'control results');
  assert.equal(ctl.s.result.each.map((e: any) => e.bytes), Array(SPLICE_CONNS).fill(SPLICE_SIZE), `control run (plain TCP) must pass: ${JSON.stringify(ctl.s.result)}`);
  const { result: r, delta } = await statsDelta(ctx.pinDir, () => spliceRun(ctx, { cgroup: ctx.cgroup }));
  note('splice', delta);
  assert.ok(r.s.result, `missing server result: ${r.s.exit.stdout} ${r.s.exit.stderr}`);
  assert.is(r.s.result.error, undefined, `splice reader error ${r.s.result.error} during "${r.s.result.stage}"`);
  r.clients.forEach((c, i) => {
    assert.ok(c.result, `client #${i}: ${c.exit.stdout} ${c.exit.stderr}`);
    assert.is(c.result.error, undefined, `client #${i} error ${c.result.error} during "${c.result.stage}"`);
  });
  const got = r.s.result.each as { bytes: number; sha256: string }[];
  assert.equal(got.map((e) => e.bytes), Array(SPLICE_CONNS).fill(SPLICE_SIZE),
    `bytes the splice reader got per connection (plain TCP: all ${fmt(SPLICE_SIZE)}); redirected ${fmt(delta.redirectedBytes)}`);
  assert.equal(got.map((e) => e.sha256), r.clients.map((c) => c.result.sha256), 'splice reader sha256 == sender sha256, per connection');
  assert.equal(got.map((e) => e.sha256), (ctl.s.result.each as { sha256: string }[]).map((e) => e.sha256), 'same bytes as the control run');
  assert.is(delta.redirectedBytes, 0, `nothing a splice reader reads may be redirected: ${JSON.stringify(delta)}`);
});

t.run();
