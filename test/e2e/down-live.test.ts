// `down` while an accelerated connection is streaming: blocking python peers (a paced sender and a
// blocking reader), down({timeoutMs: 10000}) called mid-stream. The stream must complete with every
// byte correct and no error at either end (the tutorial's unload made a blocking recv() fail with
// EAGAIN); down must come back complete only once the connection has closed; afterwards nothing of
// ours is attached or pinned.
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { down, status } from '../../src/accel/index.js';
import { cgroupAttachments, sockopsAttachments, finished, freePort, listPins, startNodeClient, startNodeServer, startPyPeer, TIME_SCALE, waitFor, withScope } from '../support/index.js';
import { accelUp, MB, counters, note } from '../support/accel.js';

const TOTAL = 40 * MB;
const CHUNK = 256 * 1024;
const INTERVAL_MS = 20; // 160 chunks x 20 ms: a stream of about 3-4 s

const t = suite('e2e: down during a live transfer');

t('down waits for the live stream, which completes intact; then nothing is left', async () => {
  await withScope('downlive', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    await accelUp({ cgroup, pinDir, policy: 'all' });
    const port = freePort();
    const where = { cgroup };
    const srv = await startPyPeer(scope, where, 60_000, 'recv-server', port);
    await srv.waitLine(/^LISTENING/, 10_000);
    const cl = await startPyPeer(scope, where, 60_000, 'paced-client', port, TOTAL, CHUNK, INTERVAL_MS, 'down-live');
    await cl.waitLine(/^CONNECTED/, 10_000);
    // Make sure the stream is really flowing through the redirect before pulling the plug.
    await waitFor('the stream to be redirected', () => counters(pinDir).redirectedBytes >= 4 * CHUNK, 10_000);
    assert.is(status({ pinDir }).connections, 2, 'both ends of the stream are accelerated');

    let sentAllAt = 0;
    void cl.waitLine(/^SENT_ALL/, 60_000).then(() => { sentAllAt = Date.now(); }, () => {});
    let progress = 0;
    const downing = down({ pinDir, timeoutMs: 10_000 * TIME_SCALE, onProgress: () => { progress++; } });

    // While down waits: the install reports not up, and a NEW connection in the cgroup is not
    // accelerated any more (sock_ops is detached first) yet works.
    await waitFor('status to leave "up"', () => status({ pinDir }).up === false, 5000);
    const before = counters(pinDir);
    const port2 = freePort();
    const srv2 = await startNodeServer(scope, where, { port: port2, conns: 1 });
    const cl2 = await finished(startNodeClient(scope, where, { port: port2, conns: 1, sizes: [MB], replySizes: [MB], seed: 'draining' }), 'client during drain');
    await finished(srv2, 'server during drain');
    assert.ok(!cl.exited, 'the long stream is still running (the check above happened during the drain)');
    const after = counters(pinDir);
    assert.ok(cl2.result?.results?.[0]?.ok, `a new connection during the drain failed: ${JSON.stringify(cl2.result)} ${cl2.exit.stderr}`);
    assert.is(after.socketsInserted - before.socketsInserted, 0, 'no new connection is accelerated while draining');
    const c = await finished(cl, 'paced client');
    const s = await finished(srv, 'blocking server');
    const r = await downing;
    const downDoneAt = Date.now();
    note('down result', r, 'progress calls', progress, 'client', c.result, 'server', s.result);

    // The stream: complete, correct, no error at either end.
    assert.ok(s.result, `server printed no result: ${s.exit.stdout} ${s.exit.stderr}`);
    assert.is(s.result.error, undefined, `blocking reader failed with ${s.result.error} during ${s.result.stage}`);
    assert.is(s.result.bytes, TOTAL, 'server received every byte');
    assert.ok(c.result, `client printed no result: ${c.exit.stdout} ${c.exit.stderr}`);
    assert.is(c.result.error, undefined, `sender failed with ${c.result.error} during ${c.result.stage}`);
    assert.is(c.result.sent, TOTAL);
    assert.is(s.result.sha256, c.result.sha256, 'server sha256 == client sha256');
    assert.is(c.exit.code, 0, `client exit; reply ${c.result.reply}`);
    assert.is(s.exit.code, 0);

    // down: waited for the connection, then removed everything.
    assert.equal({ wasUp: r.wasUp, complete: r.complete, remaining: r.remaining }, { wasUp: true, complete: true, remaining: 0 }, `DownResult ${JSON.stringify(r)}`);
    assert.ok(sentAllAt > 0 && downDoneAt >= sentAllAt, 'down returned only after the stream had been sent completely');
    assert.ok(r.waitedMs > 0, `down did not wait for the live connection: ${JSON.stringify(r)}`);
    assert.ok(progress >= 1, 'onProgress was called while waiting');
    const st = status({ pinDir });
    assert.is(st.up, false, `status after down: ${JSON.stringify(st)}`);
    assert.equal(cgroupAttachments(cgroup), [], 'bpftool cgroup show: nothing attached');
    assert.equal(listPins(pinDir), [], `pins left in ${pinDir}`);
    assert.ok(!existsSync(pinDir) || listPins(pinDir).length === 0);
  });
});

t('down with a short timeout leaves a draining install that keeps the open connection working; down again finishes', async () => {
  await withScope('downdrain', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    await accelUp({ cgroup, pinDir, policy: 'all' });
    const where = { cgroup };
    const port = freePort();
    const srv = await startNodeServer(scope, where, { port, conns: 1 });
    const cl = startNodeClient(scope, where, { port, conns: 1, sizes: [4 * MB], replySizes: [2 * MB], seed: 'drain', sequential: true, waitStdin: true });
    await cl.waitLine(/^CONNECTED/, 10_000);
    await waitFor('both ends in the map', () => status({ pinDir }).connections === 2, 5000);

    const r1 = await down({ pinDir, timeoutMs: 500 });
    note('short down', r1);
    assert.is(r1.wasUp, true);
    assert.is(r1.complete, false, `the open connection must keep down from completing: ${JSON.stringify(r1)}`);
    assert.ok(r1.remaining >= 1, `remaining: ${JSON.stringify(r1)}`);
    const st = status({ pinDir });
    assert.is(st.up, false, 'not up while draining');
    assert.is(st.state, 'draining', `state: ${JSON.stringify(st)}`);
    // sock_ops stays while draining: the config's draining flag keeps it from inserting anything new,
    // and it still sees the open connection's state changes (the half-close rescue, marks cleared).
    assert.equal(cgroupAttachments(cgroup).map((a) => a.attach_type), sockopsAttachments(cgroup).map((a) => a.attach_type), 'only sock_ops is attached while draining');
    assert.is(sockopsAttachments(cgroup).length, 1, 'sock_ops stays attached while draining');
    const inserted = counters(pinDir).socketsInserted;
    const probePort = freePort();
    const probe = await startNodeServer(scope, where, { port: probePort, conns: 1 });
    const probeClient = startNodeClient(scope, where, { port: probePort, conns: 1, sizes: [1000], replySizes: [1000], seed: 'drain-new', sequential: true });
    assert.ok((await finished(probeClient, 'new client while draining')).result?.results?.[0]?.ok, 'a new connection while draining works');
    await finished(probe, 'new server while draining');
    assert.is(counters(pinDir).socketsInserted, inserted, 'a new connection while draining is not inserted');
    assert.ok(listPins(pinDir).length > 0, 'the map and sk_msg stay pinned while draining');

    // The open connection still works, still accelerated.
    const before = counters(pinDir);
    cl.write('go\n');
    const c = await finished(cl, 'client');
    const s = await finished(srv, 'server');
    assert.ok(c.result?.results?.[0]?.ok, `the connection left open across down failed: ${JSON.stringify(c.result)} ${c.exit.stderr}`);
    assert.is(s.exit.code, 0, `server: ${s.exit.stdout}`);
    assert.ok(counters(pinDir).redirectedBytes - before.redirectedBytes >= 6 * MB, 'still redirected while draining');

    const r2 = await down({ pinDir, timeoutMs: 5000 });
    assert.equal({ wasUp: r2.wasUp, complete: r2.complete, remaining: r2.remaining }, { wasUp: true, complete: true, remaining: 0 }, `second down: ${JSON.stringify(r2)}`);
    assert.is(status({ pinDir }).up, false);
    assert.equal(listPins(pinDir), [], 'nothing pinned after the second down');
  });
});

t.run();
