// The zero-copy socket paths applications use, inside the accelerated cgroup:
//  - sendfile() on the sending side (python socket.sendfile; nginx and friends serve files this way):
//    the file must arrive bit-exact, and it should be accelerated;
//  - splice() on the receiving side (socket -> pipe; Go's io.Copy between TCP connections, HAProxy,
//    socat...): every byte must come out of the pipe, exactly as without us.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finished, freePort, loTxBytes, payload, sha256, sharedSetup, startPyPeer, type Where, knownLimitation, skipIf } from '../support/index.js';
import { accelUp, MB, fmt, note, statsDelta } from '../support/accel.js';

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

t('sendfile() sender, recv() reader: the file arrives bit-exact, off lo', async () => {
  const ctx = await shared.get();
  const where: Where = { cgroup: ctx.cgroup };
  const port = freePort();
  const lo0 = loTxBytes();
  const { result: r, delta } = await statsDelta(ctx.pinDir, async () => {
    const srv = await startPyPeer(ctx.scope, where, 30_000, 'sendfile-server', port, ctx.file);
    await srv.waitLine(/^LISTENING/, 10_000);
    const cl = await startPyPeer(ctx.scope, where, 30_000, 'sink-client', port);
    return { c: await finished(cl, 'sink client'), s: await finished(srv, 'sendfile server') };
  });
  const lo = loTxBytes() - lo0;
  note('sendfile', { lo, delta });
  assert.ok(r.c.result && r.s.result, `missing results: ${r.c.exit.stdout} ${r.c.exit.stderr} / ${r.s.exit.stdout} ${r.s.exit.stderr}`);
  assert.equal({ client: r.c.result.error, server: r.s.result.error }, { client: undefined, server: undefined },
    `errors: client ${r.c.result.error} during "${r.c.result.stage}", server ${r.s.result.error} during "${r.s.result.stage}"`);
  assert.is(r.s.result.sent, FILE_SIZE, 'sendfile sent the whole file');
  assert.is(r.c.result.bytes, FILE_SIZE, 'bytes received');
  assert.is(r.c.result.sha256, ctx.sha, 'received sha256 == file sha256');
  assert.ok(lo < 0.02 * FILE_SIZE, `lo grew by ${fmt(lo)} for a ${fmt(FILE_SIZE)}-byte file: sendfile is not accelerated`);
  assert.ok(delta.redirectedBytes >= FILE_SIZE, `redirectedBytes grew by ${fmt(delta.redirectedBytes)}`);
});

async function spliceRun(ctx: Awaited<ReturnType<typeof shared.get>>, where: Where) {
  const port = freePort();
  const srv = await startPyPeer(ctx.scope, where, 15_000, 'splice-server', port);
  await srv.waitLine(/^LISTENING/, 10_000);
  const cl = await startPyPeer(ctx.scope, where, 15_000, 'source-client', port, SPLICE_SIZE, 'splice');
  return { c: await finished(cl, 'source client'), s: await finished(srv, 'splice server') };
}

skipIf(t, knownLimitation('spliceReader'))('splice() reader (socket -> pipe) gets every byte, as without us', async () => {
  const ctx = await shared.get();
  const ctl = await spliceRun(ctx, { cgroup: ctx.control });
  assert.ok(ctl.s.result && ctl.c.result, 'control results');
  assert.is(ctl.s.result.bytes, SPLICE_SIZE, `control run (plain TCP) must pass: ${JSON.stringify(ctl.s.result)}`);
  const { result: r, delta } = await statsDelta(ctx.pinDir, () => spliceRun(ctx, { cgroup: ctx.cgroup }));
  note('splice', delta);
  assert.ok(delta.socketsInserted >= 2, 'the connection was accelerated');
  assert.ok(r.c.result && r.s.result, `missing results: ${r.c.exit.stdout} ${r.c.exit.stderr} / ${r.s.exit.stdout} ${r.s.exit.stderr}`);
  assert.is(r.c.result.error, undefined, `client error ${r.c.result.error} during "${r.c.result.stage}"`);
  assert.is(r.s.result.error, undefined, `splice reader error ${r.s.result.error} during "${r.s.result.stage}"`);
  assert.is(r.s.result.bytes, SPLICE_SIZE, `the splice reader got ${fmt(r.s.result.bytes)} of the ${fmt(SPLICE_SIZE)} bytes sent, then EOF (plain TCP: all of them); redirected ${fmt(delta.redirectedBytes)}`);
  assert.is(r.s.result.sha256, r.c.result.sha256, 'splice reader sha256 == sender sha256');
  assert.is(r.s.result.sha256, ctl.s.result.sha256, 'same bytes as the control run');
});

t.run();
