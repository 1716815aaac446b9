// A server listening with TCP_DEFER_ACCEPT: its socket only exists once data arrives, so the
// client's first bytes are sent before the peer can be in the map. The client sends a numbered
// sequence, part before the server accepts and part after; the server checks order and
// completeness (the tutorial-with-namespaces design delivered the later, redirected records first).
// Then the server replies with its own numbered sequence, which the client checks (on TCP: the
// client, a blocking socket, half-closed first, and the half-close rescue took it out of the map).
// The client poll()s before each recv(): this test is about order and completeness; a blocking
// recv() that wakes up without data (EAGAIN) is the subject of concurrency.test.ts's blocking
// half-close test, which reproduces it every time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { finished, freePort, startPyPeer, withScope } from '../support/index.js';
import { accelUp, fmt, note, statsDelta } from '../support/accel.js';

const REC = 64;
const BEFORE = 300;   // records sent before the server accepts
const AFTER = 3000;   // records sent after
const PER_SEND = 20;  // records per send() call: many sk_msg verdicts
const REPLY = 2000;   // records the server sends back

const t = suite('e2e: TCP_DEFER_ACCEPT');

t('numbered sequence across a deferred accept arrives complete and in order', async () => {
  await withScope('defer', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    await accelUp({ cgroup, pinDir, policy: 'all' });
    const port = freePort();
    const where = { cgroup };
    const { result: r, delta } = await statsDelta(pinDir, async () => {
      const srv = await startPyPeer(scope, where, 30_000, 'defer-server', port, REPLY);
      await srv.waitLine(/^LISTENING/, 10_000);
      const cl = await startPyPeer(scope, where, 30_000, 'defer-client', port, BEFORE, AFTER, PER_SEND, 'poll');
      await cl.waitLine(/^PART1_SENT/, 10_000); // the first part is in flight / queued: now accept
      srv.write('go\n');
      return { c: await finished(cl, 'defer client'), s: await finished(srv, 'defer server') };
    });
    note('defer stats delta', delta);
    const s = r.s.result;
    const c = r.c.result;
    assert.ok(s, `server printed no result: ${r.s.exit.stdout} ${r.s.exit.stderr}`);
    assert.ok(c, `client printed no result: ${r.c.exit.stdout} ${r.c.exit.stderr}`);
    // Errors first, both ends in one message: the first failing end is usually the cause.
    assert.equal({ client: c.error, server: s.error }, { client: undefined, server: undefined },
      `errors: client ${c.error} during "${c.stage}", server ${s.error} during "${s.stage}"`);
    assert.is(s.bad, null, `server saw records out of order or corrupt: ${JSON.stringify(s.bad)} (first bad record)`);
    assert.is(s.tail, 0, 'server: partial trailing record');
    assert.is(s.records, BEFORE + AFTER, 'server: number of records');
    assert.is(r.s.exit.code, 0);
    assert.is(c.bad, null, `client saw reply records out of order: ${JSON.stringify(c.bad)}`);
    assert.is(c.replyRecords, REPLY, 'client: reply records');
    assert.is(r.c.exit.code, 0);

    // The client's first send missed (no peer socket yet); its direction stayed on TCP entirely.
    const clientBytes = (BEFORE + AFTER) * REC;
    assert.ok(delta.misses >= 1, `stats().misses grew by ${delta.misses}, want >= 1`);
    assert.ok(delta.passedBytes >= clientBytes, `passedBytes grew by ${fmt(delta.passedBytes)}, want >= the client's ${fmt(clientBytes)} (that direction must stay on TCP)`);
    assert.is(delta.markFailures, 0, 'markFailures');
    // Both sockets were in the map. The client, a blocking reader, half-closed with nothing unread:
    // the half-close rescue took it out of the map, so the reply after it went through TCP too.
    assert.ok(delta.socketsInserted >= 2, `socketsInserted grew by ${delta.socketsInserted}`);
    assert.ok(delta.rescuedHalfClose >= 1, `rescuedHalfClose grew by ${delta.rescuedHalfClose}, want >= 1 (the blocking client's shutdown(SHUT_WR))`);
    assert.ok(delta.passedBytes >= clientBytes + REPLY * REC, `passedBytes grew by ${fmt(delta.passedBytes)}, want >= both directions' ${fmt(clientBytes + REPLY * REC)}`);
  });
});

t.run();
