// The same loopback 4-tuple in two network namespaces at once (containers do this routinely), both
// pairs in the accelerated cgroup. Each server must receive exactly its own client's payload: the
// tutorial's key (no namespace) delivered A's data to B's server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finished, loTxBytes, payloadSha256, startNodeClient, startNodeServer, withScope, type Proc, type Scope } from '../support/index.js';
import { accelUp, MB, fmt, note, statsDelta } from '../support/accel.js';

const SERVER_PORT = 7000;
const CLIENT_PORT = 40000;
const SIZE = 4 * MB;
const REPLY = 3 * MB + 5;

/** An accelerated test cgroup and two network namespaces, A and B, each with its own lo. */
async function twoNamespaces(scope: Scope) {
  const cgroup = scope.cgroup();
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir, policy: 'all' });
  const names = ['A', 'B'] as const;
  const ns = { A: scope.netns('a'), B: scope.netns('b') };
  return { cgroup, pinDir, names, ns };
}

const t = suite('e2e: network namespaces');

t('same 4-tuple in two namespaces: each server gets exactly its own client\'s bytes', async () => {
  await withScope('netns', async (scope) => {
    const { cgroup, pinDir, names, ns } = await twoNamespaces(scope);
    const servers: Record<string, Proc> = {};
    for (const n of names) servers[n] = await startNodeServer(scope, { cgroup, netns: ns[n] }, { port: SERVER_PORT, conns: 1 });
    // Both clients connect first (same local port: the same 127.0.0.1:40000 > 127.0.0.1:7000 in
    // each namespace), so both connections are live in the map at once; then both send.
    const clients: Record<string, Proc> = {};
    for (const n of names) {
      clients[n] = startNodeClient(scope, { cgroup, netns: ns[n] }, {
        port: SERVER_PORT, localPort: CLIENT_PORT, conns: 1, sizes: [SIZE], replySizes: [REPLY], seed: `ns${n}`, sequential: true, waitStdin: true,
      });
    }
    for (const n of names) await clients[n]!.waitLine(/^CONNECTED/, 10_000);
    const lo0 = { A: loTxBytes(ns.A), B: loTxBytes(ns.B) };
    const { result: res, delta } = await statsDelta(pinDir, async () => {
      for (const n of names) clients[n]!.write('go\n');
      const out: Record<string, { c: Awaited<ReturnType<typeof finished<any>>>; s: Awaited<ReturnType<typeof finished<any>>> }> = {};
      for (const n of names) out[n] = { c: await finished(clients[n]!, `client ${n}`), s: await finished(servers[n]!, `server ${n}`) };
      return out;
    });
    const lo = { A: loTxBytes(ns.A) - lo0.A, B: loTxBytes(ns.B) - lo0.B };
    note('netns lo', lo, 'stats', delta);

    for (const n of names) {
      const other = n === 'A' ? 'B' : 'A';
      const s = res[n]!.s.result?.results?.[0];
      const c = res[n]!.c.result?.results?.[0];
      assert.ok(s, `server ${n} printed no result; stdout ${res[n]!.s.exit.stdout} stderr ${res[n]!.s.exit.stderr}`);
      assert.is(s.error, undefined, `server ${n} error`);
      assert.is(s.bytes, SIZE, `server ${n} byte count`);
      assert.not.equal(s.sha256, payloadSha256(`ns${other}-0`, SIZE), `server ${n} received namespace ${other}'s payload: cross-namespace leak`);
      assert.is(s.sha256, payloadSha256(`ns${n}-0`, SIZE), `server ${n} received exactly its own client's payload`);
      assert.ok(c, `client ${n} printed no result: ${res[n]!.c.exit.stderr}`);
      assert.ok(c.ok, `client ${n} exchange failed: ${JSON.stringify(c)}`);
      assert.is(c.replyBytes, REPLY);
      assert.is(res[n]!.c.exit.code, 0);
    }
    // And it was accelerated in both namespaces (each has its own lo).
    for (const n of names) assert.ok(lo[n] < 0.02 * (SIZE + REPLY), `netns ${n}: lo grew by ${fmt(lo[n])} for ${fmt(SIZE + REPLY)} payload bytes: not accelerated`);
    assert.ok(delta.redirectedBytes >= 2 * (SIZE + REPLY), `redirectedBytes grew by ${fmt(delta.redirectedBytes)}, want >= ${fmt(2 * (SIZE + REPLY))}`);
    assert.is(delta.socketsInserted, 0, 'the sockets were inserted at connect, before this measurement');
  });
});

t('16 identical 4-tuples in two namespaces, connecting at the same moment: no byte crosses over', async () => {
  const CONNS = 16;
  const SZ = 256 * 1024 + 3;
  const RSZ = 64 * 1024;
  await withScope('netns16', async (scope) => {
    const { cgroup, pinDir, names, ns } = await twoNamespaces(scope);
    const servers: Record<string, Proc> = {};
    for (const n of names) servers[n] = await startNodeServer(scope, { cgroup, netns: ns[n] }, { port: SERVER_PORT, conns: CONNS });
    const clients: Record<string, Proc> = {};
    for (const n of names) {
      clients[n] = startNodeClient(scope, { cgroup, netns: ns[n] }, {
        port: SERVER_PORT, localPort: CLIENT_PORT, conns: CONNS, sizes: [SZ], replySizes: [RSZ], seed: `ns${n}`, waitStdin: true,
      });
    }
    for (const n of names) await clients[n]!.waitLine(/^READY/, 10_000);
    // Release both at once: the two namespaces' handshakes interleave in the map.
    const { result: res, delta } = await statsDelta(pinDir, async () => {
      for (const n of names) clients[n]!.write('go\n');
      const out: Record<string, { c: any; s: any }> = {};
      for (const n of names) out[n] = { c: await finished(clients[n]!, `client ${n}`), s: await finished(servers[n]!, `server ${n}`) };
      return out;
    });
    note('netns16 stats', delta);
    const leaks: string[] = [];
    for (const n of names) {
      const other = n === 'A' ? 'B' : 'A';
      const srv = res[n]!.s.result?.results as { id: number; bytes: number; sha256: string; error?: string }[] | undefined;
      assert.ok(srv, `server ${n} printed no result: ${res[n]!.s.exit.stdout} ${res[n]!.s.exit.stderr}`);
      assert.is(srv.length, CONNS, `server ${n} connections`);
      for (const x of srv) {
        if (x.sha256 === payloadSha256(`ns${other}-${x.id}`, SZ)) leaks.push(`server ${n} conn ${x.id} got namespace ${other}'s payload`);
        else if (x.sha256 !== payloadSha256(`ns${n}-${x.id}`, SZ) || x.bytes !== SZ) leaks.push(`server ${n} conn ${x.id}: wrong data (${x.bytes} bytes, error ${x.error})`);
      }
      const bad = (res[n]!.c.result?.results as { ok: boolean }[] | undefined)?.filter((x) => !x.ok);
      if (!bad || bad.length) leaks.push(`client ${n}: ${bad ? bad.length : 'no result'} failed exchanges ${JSON.stringify(bad ?? res[n]!.c.exit.stderr).slice(0, 400)}`);
    }
    assert.ok(leaks.length === 0, `cross-namespace delivery or corruption:\n${leaks.join('\n')}`);
    assert.ok(delta.socketsInserted >= 4 * CONNS, `socketsInserted grew by ${delta.socketsInserted}, want ${4 * CONNS} (both ends, both namespaces)`);
  });
});

t.run();
