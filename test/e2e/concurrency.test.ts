// Many concurrent connections, both directions, checksummed payloads of varied sizes (0 bytes to
// a few MB, around segment and buffer boundaries), through a Node peer pair inside the cgroup.
// halfclose: client sends, shutdown(SHUT_WR); server reads to EOF, replies, closes; client reads to
// EOF. echo: full duplex, both ends writing and reading at once. The accelerated run must give
// exactly the results of an unaccelerated control run (another, unattached cgroup).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Scope, finished, sharedSetup, freePort, loTxBytes, startNodeClient, startNodeServer, startPyPeer, type Where } from '../support/index.js';
import { accelUp, fmt, statsDelta } from '../support/accel.js';

const CONNS = 32;
const SIZES = [0, 1, 7, 100, 1448, 4095, 16384, 65535, 65536, 65537, 100_003, 262_144, 1_048_576, 2_500_001, 3_145_739, 524_288];
const REPLY_SIZES = [1_048_583, 0, 65536, 1, 3_000_017, 12_345, 262_145, 77, 2_097_152];

interface ConnResult { id: number; sent: number; sentSha256: string; peerBytes?: number; peerSha256?: string; replyBytes?: number; replySha256?: string; ok: boolean; error?: string }

async function exchange(scope: Scope, where: Where, mode: 'halfclose' | 'echo', seed: string) {
  const port = freePort();
  const srv = await startNodeServer(scope, where, { port, conns: CONNS, mode });
  const lo0 = loTxBytes();
  const cl = startNodeClient(scope, where, { port, conns: CONNS, sizes: SIZES, replySizes: REPLY_SIZES, seed, mode });
  const c = await finished<{ results: ConnResult[] }>(cl, 'client');
  const s = await finished<{ results: { id: number; bytes: number; sha256: string; error?: string }[] }>(srv, 'server');
  return { client: c, server: s, lo: loTxBytes() - lo0 };
}

/** What must be identical between accelerated and control runs. */
const comparable = (rs: ConnResult[]) => [...rs].sort((a, b) => a.id - b.id)
  .map(({ id, sent, sentSha256, peerBytes, peerSha256, replyBytes, replySha256, ok, error }) => ({ id, sent, sentSha256, peerBytes, peerSha256, replyBytes, replySha256, ok, error }));

function payloadTotal(mode: 'halfclose' | 'echo'): number {
  let n = 0;
  for (let i = 0; i < CONNS; i++) n += SIZES[i % SIZES.length]! + (mode === 'echo' ? SIZES[i % SIZES.length]! : REPLY_SIZES[i % REPLY_SIZES.length]!);
  return n;
}

const shared = sharedSetup('conc', async (scope) => {
  const cgroup = scope.cgroup('accel');
  const control = scope.cgroup('control');
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir, policy: 'all' });
  return { scope, cgroup, control, pinDir };
});
const t = suite('e2e: many concurrent connections');
t.after(() => shared.close());

for (const mode of ['halfclose', 'echo'] as const) {
  t(`${CONNS} concurrent ${mode} connections: every checksum matches, same results as without us`, async () => {
    const ctx = await shared.get();
    const { result: acc, delta } = await statsDelta(ctx.pinDir, () => exchange(ctx.scope, { cgroup: ctx.cgroup }, mode, `conc-${mode}`));
    const { result: ctl, delta: ctlDelta } = await statsDelta(ctx.pinDir, () => exchange(ctx.scope, { cgroup: ctx.control }, mode, `conc-${mode}`));

    assert.ok(ctl.client.result, `control client printed no result: ${ctl.client.exit.stderr}`);
    assert.is(ctl.client.exit.code, 0, `control run must pass (test harness sanity): ${JSON.stringify(ctl.client.result).slice(0, 500)}`);
    assert.is(ctlDelta.socketsInserted, 0, 'control cgroup is not accelerated');

    assert.ok(acc.client.result, `accelerated client printed no result; exit ${acc.client.exit.code}, stderr: ${acc.client.exit.stderr}`);
    const bad = acc.client.result!.results.filter((r) => !r.ok);
    assert.equal(bad, [], `connections with wrong data or errors: ${JSON.stringify(bad).slice(0, 1500)}`);
    assert.is(acc.client.result!.results.length, CONNS);
    assert.is(acc.client.exit.code, 0);
    assert.ok(acc.server.result, `server printed no result: ${acc.server.exit.stderr}`);
    assert.equal(acc.server.result!.results.filter((r) => r.error), [], 'server-side errors');
    assert.is(acc.server.exit.code, 0, 'server exit code');
    assert.equal(comparable(acc.client.result!.results), comparable(ctl.client.result!.results), 'accelerated results == control results');

    const total = payloadTotal(mode);
    assert.ok(delta.socketsInserted >= 2 * CONNS, `socketsInserted grew by ${delta.socketsInserted}, want >= ${2 * CONNS}`);
    assert.ok(delta.redirectedBytes > 0, `nothing was redirected: ${JSON.stringify(delta)}`);
    // Through the stack the payload crosses lo once per direction (the control shows it).
    assert.ok(ctl.lo >= 0.9 * total, `control lo grew by ${fmt(ctl.lo)} for ${fmt(total)} payload bytes`);
    assert.ok(acc.lo < 0.1 * total, `accelerated lo grew by ${fmt(acc.lo)} for ${fmt(total)} payload bytes (want < 10%); stats ${JSON.stringify(delta)}`);
  });
}

// The same half-close with plain blocking sockets (python): the client sends, shutdown(SHUT_WR),
// then blocks in recv() for the reply; the server reads to EOF, takes a moment (100 ms), replies and
// closes. Node's non-blocking sockets would retry a spurious EAGAIN silently; a blocking
// application sees it as an error.
const BLOCKING_SIZES = [0, 1, 1000, 300_000, 2_000_000];

async function blockingHalfClose(scope: Scope, where: Where, size: number, seed: string) {
  const port = freePort();
  const srv = await startPyPeer(scope, where, 20_000, 'recv-server', port, 100);
  await srv.waitLine(/^LISTENING/, 10_000);
  const cl = await startPyPeer(scope, where, 20_000, 'paced-client', port, size, 65536, 0, seed);
  const c = await finished(cl, 'blocking client');
  const s = await finished(srv, 'blocking server');
  return { c, s };
}

t('blocking half-close (sendall, shutdown(SHUT_WR), blocking recv), all accelerated: same results as without us (the half-close rescue)', async () => {
  const ctx = await shared.get();
  const failures: string[] = [];
  for (const size of BLOCKING_SIZES) {
    const ctl = await blockingHalfClose(ctx.scope, { cgroup: ctx.control }, size, `blk-${size}`);
    assert.is(ctl.c.exit.code, 0, `control run must pass: ${JSON.stringify(ctl.c.result)}`);
    const { result: acc, delta } = await statsDelta(ctx.pinDir, () => blockingHalfClose(ctx.scope, { cgroup: ctx.cgroup }, size, `blk-${size}`));
    assert.ok(delta.socketsInserted >= 2, `the connection was accelerated (socketsInserted +${delta.socketsInserted})`);
    const got = { client: acc.c.result, server: acc.s.result };
    const want = { client: ctl.c.result, server: ctl.s.result };
    try {
      assert.equal(got, want);
    } catch {
      const end = (r: any) => (r ? (r.error ? `${r.error} during "${r.stage}"` : 'ok') : 'no result');
      failures.push(`request ${size} B: accelerated client ${end(got.client)}, server ${end(got.server)}; control client ${end(want.client)}, server ${end(want.server)}`);
    }
  }
  assert.ok(failures.length === 0, `blocking half-close differs from plain TCP in ${failures.length}/${BLOCKING_SIZES.length} cases:\n${failures.join('\n')}`);
});

t.run();
