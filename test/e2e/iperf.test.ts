// The seed tutorial's demo, `iperf3 -c ADDR -l 64k` against `iperf3 -s` (dual-stack server: AF_INET6
// listener, v4-mapped peers), inside an accelerated cgroup under the default policy (learn): a first
// 1 s run on plain TCP teaches the service (64 KiB writes: bulk), then a second run works, its
// payload skips lo (< 1 %), and the counters account for it. A control run outside the cgroup shows
// the lo measurement really moves with payload (so the bypass assertion can fail).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Scope, freePort, sharedSetup, loTxBytes, waitListening, type Where } from '../support/index.js';
import { accelUp, fmt, note, statsDelta } from '../support/accel.js';

interface IperfRun { exitCode: number | null; error?: string; received: number; sent: number; lo: number; stderr: string }

async function iperfServer(scope: Scope, where: Where): Promise<number> {
  const port = freePort();
  const srv = scope.start('iperf3', ['-s', '-p', String(port)], { ...where, timeoutMs: 40_000 });
  await waitListening(srv, port);
  return port;
}

async function iperf(scope: Scope, where: Where, addr: string, port: number, seconds = 2): Promise<IperfRun> {
  const lo0 = loTxBytes();
  const cl = scope.start('iperf3', ['-c', addr, '-p', String(port), '-l', '64k', '-t', String(seconds), '-J'], { ...where, timeoutMs: 20_000 });
  const exit = await cl.done;
  const lo = loTxBytes() - lo0;
  let json: any = {};
  try { json = JSON.parse(exit.stdout); } catch { json = { error: `unparsable iperf3 output: ${exit.stdout.slice(0, 300)}` }; }
  return {
    exitCode: exit.code,
    error: json.error,
    received: json.end?.sum_received?.bytes ?? 0,
    sent: json.end?.sum_sent?.bytes ?? 0,
    lo,
    stderr: exit.stderr,
  };
}

const shared = sharedSetup('iperf', async (scope) => {
  const cgroup = scope.cgroup();
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir });
  return { scope, cgroup, pinDir };
});
const t = suite('e2e: iperf3');
t.after(() => shared.close());

for (const addr of ['127.0.0.1', '::1']) {
  t(`iperf3 -c ${addr} -l 64k inside the cgroup is accelerated (after a first run)`, async () => {
    const ctx = await shared.get();
    const where = { cgroup: ctx.cgroup };
    const port = await iperfServer(ctx.scope, where);
    const warm = await iperf(ctx.scope, where, addr, port, 1);
    assert.is(warm.exitCode, 0, `first iperf3 run (plain TCP, observed): ${warm.error ?? ''} ${warm.stderr}`);
    const { result: r, delta } = await statsDelta(ctx.pinDir, () => iperf(ctx.scope, where, addr, port));
    note(`iperf3 ${addr}`, { received: r.received, lo: r.lo, redirected: delta.redirectedBytes, misses: delta.misses });
    assert.is(r.error, undefined, `iperf3 reported an error: ${r.error} ${r.stderr}`);
    assert.is(r.exitCode, 0, `iperf3 client exit code (stderr: ${r.stderr})`);
    assert.ok(r.received > 0, 'iperf3 received bytes');
    const ratio = r.lo / r.received;
    assert.ok(ratio < 0.01,
      `lo tx_bytes grew by ${fmt(r.lo)} for ${fmt(r.received)} payload bytes (${(ratio * 100).toFixed(1)}%, want < 1%): not bypassing TCP/IP; stats delta ${JSON.stringify(delta)}`);
    assert.ok(delta.redirectedBytes >= r.received,
      `stats().redirectedBytes grew by ${fmt(delta.redirectedBytes)}, want >= payload ${fmt(r.received)}`);
    assert.ok(delta.socketsInserted >= 4, `socketsInserted grew by ${delta.socketsInserted}: want both ends of control + data connection`);
  });
}

t('control: iperf3 outside the cgroup goes through lo and is not counted', async () => {
  const ctx = await shared.get();
  const port = await iperfServer(ctx.scope, {});
  const { result: r, delta } = await statsDelta(ctx.pinDir, () => iperf(ctx.scope, {}, '127.0.0.1', port));
  note('iperf3 control', { received: r.received, lo: r.lo, redirected: delta.redirectedBytes });
  assert.is(r.error, undefined, `iperf3 reported an error: ${r.error}`);
  assert.is(r.exitCode, 0);
  assert.ok(r.received > 0);
  assert.ok(r.lo >= 0.9 * r.received, `lo grew by ${fmt(r.lo)} for ${fmt(r.received)} payload bytes: the measurement should see the payload`);
  assert.is(delta.redirectedBytes, 0, 'nothing outside the cgroup may be redirected');
  assert.is(delta.socketsInserted, 0, 'nothing outside the cgroup may be inserted');
});

t.run();
