// A full socket map: up({maxEntries: 4}) holds two connections (both ends each). Six connections are
// opened one by one and kept open; then each transfers in turn while the client measures lo around
// its own exchange (in a private netns, so lo counts only this test). All data must be correct; the
// first two are accelerated, the four that did not fit are not (their payload crosses lo), and the
// counters report the failed inserts as "map full".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../../src/accel/index.js';
import { finished, startNodeClient, startNodeServer, withScope } from '../support/index.js';
import { accelUp, MB, fmt, note, statsDelta } from '../support/accel.js';

const MAX = 4;
const CONNS = 6;
const FIT = MAX / 2;
const SIZE = 2 * MB;
const REPLY = 2 * MB + 3;

const t = suite('e2e: socket map full');

t('connections beyond maxEntries still work, unaccelerated, and are counted', async () => {
  await withScope('mapfull', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const ns = scope.netns();
    await accelUp({ cgroup, pinDir, maxEntries: MAX, policy: 'all' });
    assert.is(status({ pinDir }).maxEntries, MAX);
    const where = { cgroup, netns: ns };
    const port = 7100;
    const srv = await startNodeServer(scope, where, { port, conns: CONNS });
    const { result: r, delta } = await statsDelta(pinDir, async () => {
      const cl = startNodeClient(scope, where, {
        port, conns: CONNS, sizes: [SIZE], replySizes: [REPLY], seed: 'full', sequential: true, waitStdin: true, connectGapMs: 50,
        loFile: '/sys/class/net/lo/statistics/tx_bytes',
      });
      await cl.waitLine(/^CONNECTED/, 10_000);
      const open = status({ pinDir }).connections;
      cl.write('go\n');
      return { open, c: await finished(cl, 'client'), s: await finished(srv, 'server') };
    });
    note('map full: open', r.open, 'per-connection lo', r.c.result?.results?.map((x: any) => x.lo), 'stats', delta);

    const results = r.c.result?.results as { id: number; ok: boolean; lo: number; error?: string }[] | undefined;
    assert.ok(results, `client printed no result: ${r.c.exit.stdout} ${r.c.exit.stderr}`);
    assert.is(results.length, CONNS);
    assert.equal(results.filter((x) => !x.ok), [], 'every connection transferred correct data');
    assert.is(r.c.exit.code, 0);
    assert.is(r.s.exit.code, 0, `server: ${r.s.exit.stdout}`);

    assert.is(r.open, MAX, 'with every connection open, the map holds exactly maxEntries sockets');
    assert.is(delta.socketsInserted, MAX, 'socketsInserted');
    assert.ok(delta.insertFailures > 0, `insertFailures grew by ${delta.insertFailures}`);
    assert.is(delta.insertFailuresFull, 2 * (CONNS - FIT), 'insertFailuresFull: both ends of every connection that did not fit');
    assert.is(delta.insertFailuresOther, 0, 'insertFailuresOther');

    const payload = SIZE + REPLY;
    for (const x of results) {
      if (x.id < FIT) assert.ok(x.lo < 0.05 * payload, `connection ${x.id} (fits in the map): lo grew by ${fmt(x.lo)} for ${fmt(payload)} payload bytes: should be accelerated`);
      else assert.ok(x.lo >= 0.9 * payload, `connection ${x.id} (did not fit): lo grew by only ${fmt(x.lo)} for ${fmt(payload)} payload bytes: it must go through TCP`);
    }
    assert.ok(delta.redirectedBytes >= FIT * payload && delta.redirectedBytes < (FIT + 1) * payload,
      `redirectedBytes grew by ${fmt(delta.redirectedBytes)}: want the ${FIT} accelerated connections' ${fmt(FIT * payload)} and no more`);
  });
});

t.run();
