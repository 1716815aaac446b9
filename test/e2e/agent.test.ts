// `sockaccel-ffi agent`, the real process, on a scratch cgroup and pin dir (never the root cgroup):
// /metrics scraped with curl and checked with promtool while iperf3 runs in the cgroup; SIGTERM in
// the middle of a checksummed stream; SIGHUP changing the policy under a live accelerated
// connection (and a cgroup change that must wait for it, and a bad config that changes nothing);
// a restart with keep-on-exit adopting the pinned install.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { packageVersion, status } from '../../src/accel/index.js';
import {
  finished, freePort, listPins, startNodeClient, startNodeServer, startPyPeer, waitFor, waitListening, withScope, type Scope, type Where,
} from '../support/index.js';
import { agentExit, labelsOf, promtoolCheck, sampleWith, startAgent } from '../support/agent.js';
import { MB, counters, note } from '../support/accel.js';

const t = suite('e2e: agent');

const ids = (pinDir: string) => {
  const s = status({ pinDir });
  return { sockops: s.sockops?.programId, msg: s.msg?.programId };
};

async function iperf(scope: Scope, where: Where, port: number, seconds: number): Promise<number> {
  const cl = scope.start('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J'], { ...where, timeoutMs: 30_000 });
  const exit = await cl.done;
  assert.is(exit.code, 0, `iperf3 client: ${exit.stdout.slice(0, 500)} ${exit.stderr}`);
  return (JSON.parse(exit.stdout) as { end: { sum_received: { bytes: number } } }).end.sum_received.bytes;
}

t('serves /metrics (promtool-clean), /healthz, /readyz; counters move under iperf3 with policy learn', async () => {
  await withScope('agentmetrics', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const agent = await startAgent(scope, ['--cgroup', cgroup, '--pin-dir', pinDir]);
    assert.equal(agent.get('/healthz'), { code: 200, body: 'ok: running\n' });
    assert.equal(agent.get('/readyz'), { code: 200, body: 'ok: up\n' });
    assert.is(agent.get('/nope').code, 404);
    const first = agent.text();
    assert.equal(promtoolCheck(first), [0, ''], 'promtool check metrics on the fresh install');
    const m0 = agent.metrics();
    assert.is(m0.get('sockaccel_up'), 1);
    assert.is(m0.get('sockaccel_install_state{state="up"}'), 1);
    assert.is(labelsOf(first, 'sockaccel_build_info').version, packageVersion());
    const info = labelsOf(first, 'sockaccel_install_info');
    assert.is(info.policy, 'learn');
    assert.is(info.cgroups, cgroup);
    assert.is(Number(info.sockops_program_id), ids(pinDir).sockops, 'install_info carries the kernel program id');

    // iperf3 serves one test after another: the first (1 s) runs on TCP and teaches the service,
    // the second is accelerated.
    const where = { cgroup };
    const port = freePort();
    const srv = scope.start('iperf3', ['-s', '-p', String(port)], { ...where, timeoutMs: 60_000 });
    await waitListening(srv, port);
    await iperf(scope, where, port, 1);
    const before = agent.metrics();
    const received = await iperf(scope, where, port, 2);
    const page = agent.text();
    const after = agent.metrics();
    const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    note('agent metrics delta', { received, redirected: d('sockaccel_redirected_bytes_total'), inserted: d('sockaccel_sockets_inserted_total') });
    assert.equal(promtoolCheck(page), [0, ''], 'promtool check metrics under traffic');
    assert.ok(d('sockaccel_redirected_bytes_total') >= received, `redirected ${d('sockaccel_redirected_bytes_total')} < iperf3 received ${received}`);
    assert.ok(d('sockaccel_redirected_messages_total') > 0);
    assert.ok(d('sockaccel_sockets_inserted_total') >= 2, 'the data connection was put in the map');
    assert.ok(d('sockaccel_decisions_total{reason="redirect"}') >= 2, 'decided "redirect" (a learned service)');
    assert.ok((before.get('sockaccel_decisions_total{reason="probation"}') ?? 0) >= 2, 'the first run was on probation');
    assert.ok((after.get('sockaccel_services{verdict="accelerate"}') ?? 0) >= 1, 'the service is learned as accelerated');
    assert.is(after.get('sockaccel_at_risk_total{kind="splice"}'), 0);
    assert.is(after.get('sockaccel_map_capacity'), status({ pinDir }).maxEntries);
    assert.ok(after.get('sockaccel_agent_scrape_errors_total') === 0);
    srv.kill('SIGTERM');
    await srv.done;

    agent.proc.kill('SIGTERM');
    const exit = await agentExit(agent, 30_000);
    assert.is(exit.code, 0, `agent exit: ${agent.proc.stdout}`);
    assert.equal(listPins(pinDir), [], 'SIGTERM drained and removed the install');
  });
});

const TOTAL = 40 * MB;
const CHUNK = 256 * 1024;
const INTERVAL_MS = 20; // 160 chunks x 20 ms: a stream of about 3-4 s

t('SIGTERM during a live stream: every byte arrives (sha256), the agent drains, then exits 0 with nothing left', async () => {
  await withScope('agentterm', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const agent = await startAgent(scope, ['--cgroup', cgroup, '--pin-dir', pinDir, '--policy', 'all', '--drain-timeout', '30']);
    const where = { cgroup };
    const port = freePort();
    const srv = await startPyPeer(scope, where, 60_000, 'recv-server', port);
    await srv.waitLine(/^LISTENING/, 10_000);
    const cl = await startPyPeer(scope, where, 60_000, 'paced-client', port, TOTAL, CHUNK, INTERVAL_MS, 'agent-term');
    await cl.waitLine(/^CONNECTED/, 10_000);
    await waitFor('the stream to be redirected', () => counters(pinDir).redirectedBytes >= 4 * CHUNK, 10_000);
    let sentAllAt = 0;
    void cl.waitLine(/^SENT_ALL/, 60_000).then(() => { sentAllAt = Date.now(); }, () => {});

    agent.proc.kill('SIGTERM');
    await agent.waitLog(/^SIGTERM: draining/, 10_000);
    // While it drains: not ready, still alive, the metrics say so; the stream is still running.
    const ready = agent.get('/readyz');
    assert.is(ready.code, 503, `readyz while draining: ${ready.body}`);
    assert.is(agent.get('/healthz').code, 200, 'alive while draining (no liveness kill)');
    const m = agent.metrics();
    assert.is(m.get('sockaccel_install_state{state="draining"}'), 1);
    assert.is(m.get('sockaccel_agent_stopping'), 1);
    assert.ok(!cl.exited, 'the stream was still running during the drain');

    const c = await finished(cl, 'paced client');
    const s = await finished(srv, 'blocking server');
    const exit = await agentExit(agent, 40_000);
    note('agent SIGTERM', { client: c.result, server: s.result, exit, logs: agent.logs().map((l) => l.msg) });
    assert.is(s.result?.error, undefined, `reader failed: ${JSON.stringify(s.result)} ${s.exit.stderr}`);
    assert.is(c.result?.error, undefined, `sender failed: ${JSON.stringify(c.result)} ${c.exit.stderr}`);
    assert.is(s.result.bytes, TOTAL, 'every byte received');
    assert.is(c.result.sent, TOTAL);
    assert.is(s.result.sha256, c.result.sha256, 'sha256 at both ends');
    assert.is(c.exit.code, 0);
    assert.is(exit.code, 0, `agent exit code; log: ${agent.proc.stdout}`);
    assert.ok(sentAllAt > 0 && exit.atMs >= sentAllAt, 'the agent exited only after the stream was sent');
    assert.ok(agent.logs().some((l) => l.msg === 'drained: detached and unpinned everything'), 'logged the completed drain');
    assert.equal(listPins(pinDir), [], 'nothing pinned after the drain');
  });
});

t('SIGHUP: policy change in place under a live accelerated connection; a bad config changes nothing; a cgroup change waits for open sockets', async () => {
  await withScope('agenthup', async (scope) => {
    const cgroup = scope.cgroup();
    const cgroup2 = scope.cgroup('agenthup2');
    const pinDir = scope.pinDir();
    const dir = mkdtempSync(join(tmpdir(), 'sockaccel-agent-'));
    scope.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'agent.json');
    const write = (o: unknown) => writeFileSync(file, typeof o === 'string' ? o : JSON.stringify(o));
    write({ cgroups: [cgroup], policy: 'all', pinDir });
    const agent = await startAgent(scope, ['--config', file]);
    const where = { cgroup };
    const port = freePort();
    const srv = await startNodeServer(scope, where, { port, conns: 1 });
    const cl = startNodeClient(scope, where, { port, conns: 1, sizes: [4 * MB], replySizes: [2 * MB], seed: 'hup', sequential: true, waitStdin: true });
    await cl.waitLine(/^CONNECTED/, 10_000);
    // A second connection, held open until the end, keeps the waiting change waiting while we look.
    const port2 = freePort();
    const srv2 = await startNodeServer(scope, where, { port: port2, conns: 1 });
    const holder = startNodeClient(scope, where, { port: port2, conns: 1, sizes: [1000], replySizes: [1000], seed: 'hup-hold', sequential: true, waitStdin: true });
    await holder.waitLine(/^CONNECTED/, 10_000);
    await waitFor('both connections in the map', () => status({ pinDir }).connections === 4, 5000);
    const ids0 = ids(pinDir);

    // 1. Policy (and ports): in place.
    write({ cgroups: [cgroup], policy: 'learn', excludePorts: [1], pinDir });
    agent.proc.kill('SIGHUP');
    const inPlace = await agent.waitLog(/^config changed in place/);
    assert.equal(inPlace.changes, ['policy all → learn', 'excluded ports none → 1']);
    assert.is(status({ pinDir }).policy, 'learn');
    assert.equal(ids(pinDir), ids0, 'same programs: nothing reloaded');
    assert.is(status({ pinDir }).connections, 4, 'the connections are still in the map');
    let text = agent.text();
    assert.is(labelsOf(text, 'sockaccel_install_info').policy, 'learn', 'metrics show the new policy');
    assert.is(sampleWith(agent.metrics(), 'sockaccel_agent_reloads_total', 'result="applied"'), 1);

    // 2. A config that does not parse: logged, counted, nothing changes.
    write('{"policy": "fast"}');
    agent.proc.kill('SIGHUP');
    const failed = await agent.waitLog(/^reload failed/);
    assert.match(String(failed.error), /"policy" must be "learn" or "all"/);
    assert.is(sampleWith(agent.metrics(), 'sockaccel_agent_reloads_total', 'result="failed"'), 1);
    assert.is(status({ pinDir }).policy, 'learn');

    // 3. Another cgroup means another install: it waits while the connection is open.
    write({ cgroups: [cgroup, cgroup2], policy: 'learn', excludePorts: [1], pinDir });
    agent.proc.kill('SIGHUP');
    await agent.waitLog(/^config change waits/);
    const m = agent.metrics();
    assert.is(sampleWith(m, 'sockaccel_agent_config_pending'), 1);
    assert.is(m.get('sockaccel_agent_config_applied'), 0);
    assert.is(m.get('sockaccel_up'), 1, 'the old install runs on');
    assert.equal(status({ pinDir }).cgroups, [cgroup]);
    assert.equal(ids(pinDir), ids0);
    assert.is(agent.get('/readyz').code, 200, 'still ready: the install is up');

    // The connection, accelerated all along, completes intact.
    const before = counters(pinDir);
    cl.write('go\n');
    const c = await finished(cl, 'client');
    await finished(srv, 'server');
    assert.ok(c.result?.results?.[0]?.ok, `the connection across the reloads failed: ${JSON.stringify(c.result)} ${c.exit.stderr}`);
    assert.ok(counters(pinDir).redirectedBytes - before.redirectedBytes >= 6 * MB, 'still redirected after the reloads');

    assert.ok(!agent.logs().some((l) => /^applied the change/.test(l.msg)), 'nothing applied while a socket is open');
    assert.equal(status({ pinDir }).cgroups, [cgroup]);

    // Once the last one has closed, the waiting change is applied by the periodic check.
    holder.write('go\n');
    assert.ok((await finished(holder, 'holder')).result?.results?.[0]?.ok, 'the held connection');
    await finished(srv2, 'holder server');
    const applied = await agent.waitLog(/^applied the change that waited/, 20_000);
    assert.equal(applied.cgroups, [cgroup, cgroup2]);
    assert.equal(status({ pinDir }).cgroups, [cgroup, cgroup2]);
    assert.not.equal(ids(pinDir).sockops, ids0.sockops, 'replaced: new programs');
    text = agent.text();
    assert.is(sampleWith(agent.metrics(), 'sockaccel_agent_config_pending'), 0);
    assert.equal(promtoolCheck(text), [0, '']);

    agent.proc.kill('SIGTERM');
    assert.is((await agentExit(agent, 30_000)).code, 0);
    assert.equal(listPins(pinDir), []);
  });
});

t('restart with keep-on-exit: the next agent adopts the pinned install (same program ids), the open connection never notices', async () => {
  await withScope('agentadopt', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const args = ['--cgroup', cgroup, '--pin-dir', pinDir, '--policy', 'all'];
    const first = await startAgent(scope, [...args, '--keep-on-exit']);
    const where = { cgroup };
    const port = freePort();
    const srv = await startNodeServer(scope, where, { port, conns: 1 });
    const cl = startNodeClient(scope, where, { port, conns: 1, sizes: [4 * MB], replySizes: [2 * MB], seed: 'adopt', sequential: true, waitStdin: true });
    await cl.waitLine(/^CONNECTED/, 10_000);
    await waitFor('both ends in the map', () => status({ pinDir }).connections === 2, 5000);
    const ids0 = ids(pinDir);
    const installedAt = status({ pinDir }).installedAt;

    first.proc.kill('SIGTERM');
    const t0 = Date.now();
    assert.is((await agentExit(first, 10_000)).code, 0);
    assert.ok(Date.now() - t0 < 5000, 'keep-on-exit exits at once (no drain)');
    assert.ok(first.logs().some((l) => /keepOnExit leaves the install pinned/.test(l.msg)));
    const st = status({ pinDir });
    assert.is(st.up, true, 'still up after the agent exited');
    assert.is(st.connections, 2);

    const second = await startAgent(scope, args);
    const adopted = second.logs().find((l) => /^adopted the install/.test(l.msg));
    assert.ok(adopted, `the second agent did not adopt: ${second.proc.stdout}`);
    assert.equal(ids(pinDir), ids0, 'same program ids: nothing reloaded');
    assert.is(status({ pinDir }).installedAt, installedAt);
    assert.is(Number(labelsOf(second.text(), 'sockaccel_install_info').sockops_program_id), ids0.sockops);

    const before = counters(pinDir);
    cl.write('go\n');
    const c = await finished(cl, 'client');
    await finished(srv, 'server');
    assert.ok(c.result?.results?.[0]?.ok, `the connection across the restart failed: ${JSON.stringify(c.result)} ${c.exit.stderr}`);
    assert.ok(counters(pinDir).redirectedBytes - before.redirectedBytes >= 6 * MB, 'accelerated after the restart');

    second.proc.kill('SIGTERM');
    assert.is((await agentExit(second, 30_000)).code, 0);
    assert.equal(listPins(pinDir), [], 'the second agent (no keep-on-exit) drained and removed it');
  });
});

t.run();
