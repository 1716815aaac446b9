// python3 -m http.server (IPv4-only and dual-stack) serving a 50 MB random file, fetched by curl,
// all inside an accelerated cgroup, under the default policy (learn): the first download runs on
// plain TCP and teaches the service; both arrive bit-exact and the second one's bytes skip lo.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, sharedSetup, loTxBytes, payload, python3, sha256, waitListening } from '../support/index.js';
import { accelUp, MB, fmt, note, statsDelta } from '../support/accel.js';

const SIZE = 50 * MB;
const shared = sharedSetup('http', async (scope) => {
  const dir = mkdtempSync(join(tmpdir(), 'sae2e-http-'));
  scope.defer(`rm ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const data = payload('http-file', SIZE);
  writeFileSync(join(dir, 'f'), data);
  const cgroup = scope.cgroup();
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir });
  return { scope, dir, sha: sha256(data), cgroup, pinDir };
});
const t = suite('e2e: python http.server + curl');
t.after(() => shared.close());

const cases: { bind: string; url: (p: number) => string }[] = [
  { bind: '127.0.0.1', url: (p) => `http://127.0.0.1:${p}/f` },
  { bind: '::', url: (p) => `http://[::1]:${p}/f` },
  { bind: '::', url: (p) => `http://127.0.0.1:${p}/f` },
];

for (const c of cases) {
  t(`--bind ${c.bind}, curl ${c.url(0).replace(':0', ':PORT')} twice: bit-exact, the second off lo`, async () => {
    const ctx = await shared.get();
    const port = freePort();
    const where = { cgroup: ctx.cgroup };
    const srv = ctx.scope.start(python3(), ['-m', 'http.server', String(port), '--bind', c.bind, '--directory', ctx.dir], { ...where, timeoutMs: 60_000 });
    await waitListening(srv, port);
    const out = join(ctx.dir, `out-${port}`);
    const warm = await ctx.scope.start('curl', ['-g', '-s', '-S', '--max-time', '30', '-o', out, c.url(port)], { ...where, timeoutMs: 40_000 }).done;
    assert.is(warm.code, 0, `first curl exit code; stderr: ${warm.stderr}`);
    assert.is(sha256(readFileSync(out)), ctx.sha, 'first download (plain TCP, observed) sha256');
    rmSync(out, { force: true });
    const lo0 = loTxBytes();
    const { result: exit, delta } = await statsDelta(ctx.pinDir, () =>
      ctx.scope.start('curl', ['-g', '-s', '-S', '--max-time', '30', '-o', out, c.url(port)], { ...where, timeoutMs: 40_000 }).done);
    const lo = loTxBytes() - lo0;
    note(`http ${c.bind} ${c.url(port)}`, { lo, redirected: delta.redirectedBytes, curl: exit.code });
    srv.kill();
    assert.is(exit.code, 0, `curl exit code; stderr: ${exit.stderr}`);
    const got = readFileSync(out);
    rmSync(out, { force: true });
    assert.is(got.length, SIZE, 'downloaded size');
    assert.is(sha256(got), ctx.sha, 'downloaded file sha256');
    assert.ok(lo < 0.01 * SIZE, `lo tx_bytes grew by ${fmt(lo)} for a ${fmt(SIZE)}-byte file (want < 1%): not accelerated; stats delta ${JSON.stringify(delta)}`);
    assert.ok(delta.decisions.redirect >= 2, `the second download was accelerated: decisions ${JSON.stringify(delta.decisions)}`);
    assert.ok(delta.redirectedBytes >= SIZE, `stats().redirectedBytes grew by ${fmt(delta.redirectedBytes)}, want >= ${fmt(SIZE)}`);
  });
}

t.run();
