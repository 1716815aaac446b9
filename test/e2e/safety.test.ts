// Safe by default: real programs that sockmap serves badly, inside an accelerated cgroup under the
// default policy ("learn"), 20+ connections each, every byte checked, zero application errors:
// a Go io.Copy proxy and HAProxy with splice-auto (splice readers), python os.splice, a blocking
// half-close client, a full-duplex blocking reader, a blocking reader taking signals, redis-benchmark,
// iperf3 at three write sizes, nginx under wrk. Each also checks what the policy decided for it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { services, stats, type ServiceInfo, type Stats } from '../../src/accel/index.js';
import {
  clientResult, freePort, need, REPO_ROOT, run, safetyPeerArgs, serverConns, sharedSetup, startNodeClient, startNodeServer,
  finished, waitFor, waitListening, type Scope,
} from '../support/index.js';
import { accelUp } from '../support/accel.js';

const t = suite('e2e: safe by default (policy learn)');

const shared = sharedSetup('safety', async (scope) => {
  const cgroup = scope.cgroup();
  const pinDir = scope.pinDir();
  await accelUp({ cgroup, pinDir });
  return { scope, cgroup, pinDir };
});
t.after(() => shared.close());

const service = (pinDir: string, port: number): ServiceInfo | undefined => services({ pinDir }).find((s) => s.port === port && s.address === '127.0.0.1');
const show = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? String(v) : v));
const risk = (s: Stats) => ({ atRiskSplice: s.atRiskSplice, atRiskBlocking: s.atRiskBlocking });

async function pyServer(scope: Scope, cgroup: string, mode: string, ...args: (string | number)[]) {
  const port = freePort();
  const [py, argv] = safetyPeerArgs(mode, port, ...args);
  const p = scope.start(py, argv, { cgroup, timeoutMs: 120_000 });
  await waitListening(p, port);
  return { port, proc: p };
}

async function pyClient(cgroup: string, mode: string, port: number, ...args: (string | number)[]) {
  const [py, argv] = safetyPeerArgs(mode, port, ...args);
  const exit = await run(py, argv, { cgroup, timeoutMs: 120_000 });
  return { exit, result: clientResult(exit.stdout) };
}

t('python os.splice reader: every byte of 24 connections, the service learned as a splice reader', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const before = stats({ pinDir });
  const { port, proc } = await pyServer(scope, cgroup, 'sink-server', 'splice');
  const size = 1 << 20;
  const { exit, result } = await pyClient(cgroup, 'source-client', port, 24, size);
  assert.is(result.errors.length, 0, JSON.stringify(result.errors));
  const sent = exit.stdout.split('\n').filter((l) => l.startsWith('SENT ')).map((l) => l.split(' ')[3]);
  // The server reports each connection as it ends: wait for all 24 lines (bounded), not a fixed time.
  await waitFor('the server\'s 24 CONN lines', () => serverConns(proc.stdout).length >= 24 || undefined, 10_000).catch(() => undefined);
  const got = serverConns(proc.stdout);
  assert.is(got.length, 24, `server saw ${got.length} connections; stderr: ${proc.stderr}`);
  assert.equal(got.map((c) => c.sha256).sort(), [...sent].sort(), 'every byte arrived');
  assert.ok(got.every((c) => c.bytes === size));
  assert.not.match(proc.stdout, /ERROR/);
  const svc = service(pinDir, port);
  assert.ok(svc?.seen.includes('splice-server'), `learned: ${show(svc)}`);
  assert.equal(risk(stats({ pinDir })), risk(before), 'nothing at risk');
});

/** A proxy between a Node client and a Node server (both halfclose mode: sha-checked both ways). */
async function throughProxy(scope: Scope, cgroup: string, startProxy: (listen: number, upstream: number) => Promise<void>, conns: number) {
  const upstream = freePort();
  const server = await startNodeServer(scope, { cgroup }, { port: upstream, conns, mode: 'halfclose', timeoutMs: 120_000 });
  const listen = freePort();
  await startProxy(listen, upstream);
  const client = startNodeClient(scope, { cgroup }, { port: listen, conns, sizes: [1 << 20], replySizes: [256 << 10], seed: randomBytes(4).toString('hex'), mode: 'halfclose', sequential: true, timeoutMs: 120_000 });
  const c = await finished<{ results: { ok: boolean; error?: string }[] }>(client, 'client');
  const s = await finished<{ results?: { error?: string }[] }>(server, 'server');
  // Client results say ok; server results have an error when something failed.
  const good = (x: { ok?: boolean; error?: string }) => x.ok ?? !x.error;
  const okCount = (r?: { results?: { ok?: boolean; error?: string }[] }) => r?.results?.filter(good).length ?? 0;
  const failures = (r?: { results?: { ok?: boolean; error?: string }[] }) => (r?.results ?? []).filter((x) => !good(x)).map((x) => x.error ?? 'bad data');
  return { c, s, listen, upstream, clientOk: okCount(c.result), serverOk: okCount(s.result), failures: [...failures(c.result), ...failures(s.result)] };
}

t('Go io.Copy proxy (splice both ways): 24 connections, every byte both ways, no error', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const go = need('go');
  const dir = join(tmpdir(), `sockaccel-goproxy-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, 'goproxy');
  const build = await run(go, ['build', '-o', bin, join(REPO_ROOT, 'test', 'peers', 'goproxy.go')], { timeoutMs: 120_000, env: { ...process.env, HOME: dir, GOCACHE: join(dir, 'cache'), GOFLAGS: '-mod=mod', GO111MODULE: 'off' } });
  assert.is(build.code, 0, `go build: ${build.stderr}`);
  let proxy: ReturnType<Scope['start']> | undefined;
  const before = stats({ pinDir });
  const r = await throughProxy(scope, cgroup, async (listen, upstream) => {
    proxy = scope.start(bin, [`127.0.0.1:${listen}`, `127.0.0.1:${upstream}`], { cgroup, timeoutMs: 120_000 });
    await proxy.waitLine(/^LISTENING/, 10_000);
  }, 24);
  assert.is(r.c.exit.code, 0, `client: ${r.failures.slice(0, 5).join('; ')} ${r.c.exit.stderr}`);
  assert.equal(r.failures, []);
  assert.is(r.clientOk, 24, 'every reply checked by the client');
  assert.is(r.serverOk, 24, 'every request checked by the server');
  assert.is(proxy!.stderr.trim(), '', `the proxy reported errors: ${proxy!.stderr}`);
  const p = service(pinDir, r.listen);
  assert.ok(p?.seen.includes('splice-server'), `the proxy's listener is learned as a splice reader: ${show(p)}`);
  assert.equal(risk(stats({ pinDir })), risk(before), 'nothing at risk');
});

t('HAProxy, mode tcp, option splice-auto: 24 connections, every byte both ways, no error', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const haproxy = need('haproxy');
  const before = stats({ pinDir });
  const r = await throughProxy(scope, cgroup, async (listen, upstream) => {
    const cfg = join(tmpdir(), `sockaccel-haproxy-${process.pid}-${listen}.cfg`);
    writeFileSync(cfg, [
      'global', '  maxconn 256', 'defaults', '  mode tcp', '  option splice-auto', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
      `frontend fe`, `  bind 127.0.0.1:${listen}`, '  default_backend be', 'backend be', `  server s1 127.0.0.1:${upstream}`, '',
    ].join('\n'));
    const hp = scope.start(haproxy, ['-db', '-f', cfg], { cgroup, timeoutMs: 120_000 });
    await waitListening(hp, listen);
  }, 24);
  assert.is(r.c.exit.code, 0, `client: ${r.failures.slice(0, 5).join('; ')} ${r.c.exit.stderr}`);
  assert.equal(r.failures, []);
  assert.is(r.clientOk, 24, 'every reply checked by the client');
  assert.is(r.serverOk, 24, 'every request checked by the server');
  assert.equal(risk(stats({ pinDir })), risk(before), 'nothing at risk');
});

t('blocking half-close client (sendall, shutdown(SHUT_WR), blocking recv to EOF, server replies 20 ms later): 24 connections, no EAGAIN', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const { port } = await pyServer(scope, cgroup, 'reply-server', 20);
  const { result } = await pyClient(cgroup, 'halfclose-client', port, 24, 65536);
  assert.equal(result.errors, [], 'no connection failed');
  assert.is(result.ok, 24);
  const svc = service(pinDir, port);
  assert.is(svc?.verdict, 'tcp', `a blocking reader after its own FIN stays on TCP: ${show(svc)}`);
  assert.ok(svc?.seen.includes('blocking-client'));
});

t('full-duplex blocking reader (a thread reads while another writes): 24 connections of 1 MiB echoed, no error', async () => {
  const { scope, cgroup } = await shared.get();
  const { port } = await pyServer(scope, cgroup, 'echo-server');
  const { result } = await pyClient(cgroup, 'duplex-client', port, 24, 1 << 20);
  assert.equal(result.errors, [], 'no connection failed');
  assert.is(result.ok, 24);
});

t('a blocking reader that takes signals (SIGALRM every ms, with a handler): 24 connections x 50 exchanges, no EAGAIN', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const { port } = await pyServer(scope, cgroup, 'rpc-server', 1024);
  const { result } = await pyClient(cgroup, 'signal-client', port, 24, 1024, 50);
  assert.equal(result.errors, [], 'no connection failed');
  assert.is(result.ok, 24);
  const svc = service(pinDir, port);
  assert.is(svc?.verdict, 'tcp', `a blocking reader taking signals stays on TCP: ${show(svc)}`);
});

t('redis-server + redis-benchmark (plain and pipelined): no error, and the service is accelerated once learned', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const port = freePort();
  const srv = scope.start(need('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { cgroup, timeoutMs: 120_000 });
  await waitListening(srv, port);
  const bench = need('redis-benchmark');
  for (const pipeline of ['1', '16']) {
    const r = await run(bench, ['-h', '127.0.0.1', '-p', String(port), '-n', '20000', '-c', '20', '-t', 'set,get', '-P', pipeline, '-q'], { cgroup, timeoutMs: 120_000 });
    assert.is(r.code, 0, `redis-benchmark -P ${pipeline}: ${r.stderr}`);
    assert.not.match(r.stdout + r.stderr, /error/i, r.stdout + r.stderr);
  }
  const svc = service(pinDir, port);
  assert.is(svc?.verdict, 'accelerate', `request/response over a non-blocking reader is accelerated: ${show(svc)}`);
  assert.ok((svc?.inserted ?? 0) > 0, 'connections after the first ones were inserted');
});

t('iperf3 at 128 B, 1 KiB and 64 KiB: correct; small writes stay on TCP, 64 KiB is accelerated', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const iperf = need('iperf3');
  const verdicts: Record<string, string | undefined> = {};
  for (const len of ['128', '1K', '64K']) {
    const port = freePort();
    const srv = scope.start(iperf, ['-s', '-p', String(port)], { cgroup, timeoutMs: 120_000 });
    await waitListening(srv, port);
    for (let round = 0; round < 2; round++) {
      const r = await run(iperf, ['-c', '127.0.0.1', '-p', String(port), '-l', len, '-t', '1', '-J'], { cgroup, timeoutMs: 60_000 });
      assert.is(r.code, 0, `iperf3 -l ${len}: ${r.stdout.slice(-400)} ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { error?: string; end: { sum_received: { bytes: number } } };
      assert.is(j.error, undefined);
      assert.ok(j.end.sum_received.bytes > 0);
    }
    verdicts[len] = service(pinDir, port)?.verdict;
  }
  assert.equal(verdicts, { '128': 'tcp', '1K': 'tcp', '64K': 'accelerate' }, show(services({ pinDir }).map((s) => [s.port, s.verdict, s.reason, s.good, s.small])));
});

t('nginx under wrk, then 20 downloads checked: no socket error, every byte', async () => {
  const { scope, cgroup, pinDir } = await shared.get();
  const nginx = need('nginx');
  const wrk = need('wrk');
  const curl = need('curl');
  const port = freePort();
  const dir = join(tmpdir(), `sockaccel-nginx-${process.pid}-${port}`);
  mkdirSync(join(dir, 'www'), { recursive: true });
  const body = randomBytes(256 << 10);
  writeFileSync(join(dir, 'www', 'f'), body);
  writeFileSync(join(dir, 'nginx.conf'), [
    'worker_processes 1;', 'daemon off;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'events { worker_connections 256; }',
    'http {', `  access_log off;`, `  client_body_temp_path ${dir}/tmp;`, `  proxy_temp_path ${dir}/tmp;`, `  fastcgi_temp_path ${dir}/tmp;`, `  uwsgi_temp_path ${dir}/tmp;`, `  scgi_temp_path ${dir}/tmp;`,
    `  server { listen 127.0.0.1:${port}; root ${dir}/www; }`, '}', '',
  ].join('\n'));
  const srv = scope.start(nginx, ['-c', join(dir, 'nginx.conf'), '-p', dir], { cgroup, timeoutMs: 120_000 });
  await waitListening(srv, port);
  const url = `http://127.0.0.1:${port}/f`;
  const warm = await run(curl, ['-s', '-o', '/dev/null', url], { cgroup, timeoutMs: 20_000 });
  assert.is(warm.code, 0);
  const w = await run(wrk, ['-t', '1', '-c', '16', '-d', '2s', url], { cgroup, timeoutMs: 30_000 });
  assert.is(w.code, 0, w.stderr);
  assert.not.match(w.stdout, /Socket errors|Non-2xx/, w.stdout);
  const want = createHash('sha256').update(body).digest('hex');
  for (let i = 0; i < 20; i++) {
    const r = await run('sh', ['-c', `${curl} -s ${url} | sha256sum`], { cgroup, timeoutMs: 20_000 });
    assert.is(r.stdout.split(' ')[0], want, `download ${i}`);
  }
  assert.is(service(pinDir, port)?.verdict, 'accelerate', show(service(pinDir, port)));
});

t.run();
