// Real applications, plain TCP vs sockaccel (policy learn, as `up` installs it), side by side:
//   redis-benchmark (set,get; plain and pipelined -P 16), nginx under wrk (a 4 KiB and a 256 KiB file), and
//   iperf3 -l 128 / 1K / 64k (one direction, 3 s).
// Each application runs twice, as two servers on their own ports: one in a plain cgroup, one in a
// cgroup with its own sockaccel install. Every server first gets a warm-up client run (for the
// learning policy, the service's first connections: observed on TCP); then the rounds alternate
// plain and accelerated runs (which goes first rotates per round) and the result is the median of
// the rounds, with min..max. The learned verdict of each accelerated service is printed with it.
// Everything (servers, install, cgroups, temp dir) is removed at the end, also on failure / Ctrl-C.
// Run: npm run build && node dist/tools/bench-apps.js [rounds] [--json FILE]   (root; redis-server,
// redis-tools, nginx, wrk, iperf3 installed)
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupV2Root } from '../src/index.js';
import { down, services, stats, up } from '../src/accel/index.js';

const args = process.argv.slice(2);
const rounds = Math.min(Math.max(Number(args.find((a) => /^\d+$/.test(a)) ?? 5), 1), 50);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const tag = `sockaccel-apps-${process.pid}`;
const root = cgroupV2Root();
const cg = { plain: join(root, `${tag}-plain`), accel: join(root, `${tag}-accel`) };
const pinDir = join('/sys/fs/bpf', tag);
const dir = mkdtempSync(join(tmpdir(), 'sockaccel-apps-'));
// nginx's workers run as nobody: they must be able to reach the served file (mkdtemp makes 0700).
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];

type Side = 'plain' | 'accel';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
  });
}

/** Start `cmd` inside cgroup `side` (sh writes its pid, then execs). */
function startIn(side: Side, cmd: string, argv: string[]): ChildProcess {
  const c = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', join(cg[side], 'cgroup.procs'), cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

function runIn(side: Side, cmd: string, argv: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = startIn(side, cmd, argv);
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => { out += d; });
    c.stderr!.on('data', (d) => { err += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

interface App {
  name: string;
  unit: string;
  /** Start the server of one side, return its port. */
  server(side: Side): Promise<number>;
  /** One client run against that port: the figure of merit (higher is better). */
  client(side: Side, port: number): Promise<number>;
}

const redisServer = async (side: Side) => {
  const port = await freePort();
  startIn(side, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  await waitListening(port);
  return port;
};
const redis = (pipeline: number): App => ({
  name: `redis-benchmark -t set,get -c 50${pipeline > 1 ? ` -P ${pipeline}` : ''}`,
  unit: 'requests/s',
  server: redisServer,
  async client(side, port) {
    const out = await runIn(side, 'redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', pipeline > 1 ? '400000' : '100000', '-c', '50', '-t', 'set,get', '-P', String(pipeline), '-q', '--csv']);
    const rps = [...out.matchAll(/^"(SET|GET)","([\d.]+)"/gm)].map((m) => Number(m[2]));
    if (rps.length !== 2) throw new Error(`redis-benchmark output not understood: ${out}`);
    return (rps[0]! + rps[1]!) / 2;
  },
});

const nginx = (kib: number): App => ({
  name: `nginx (${kib} KiB file) under wrk -t1 -c16 -d3s`,
  unit: 'requests/s',
  async server(side) {
    const port = await freePort();
    const d = join(dir, `nginx-${kib}k-${side}`);
    mkdirSync(join(d, 'www'), { recursive: true });
    writeFileSync(join(d, 'www', 'f'), randomBytes(kib << 10));
    writeFileSync(join(d, 'nginx.conf'), [
      'worker_processes 1;', 'daemon off;', `pid ${d}/nginx.pid;`, `error_log ${d}/error.log;`, 'events { worker_connections 256; }',
      'http {', '  access_log off;', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${d}/tmp;`),
      `  server { listen 127.0.0.1:${port}; root ${d}/www; }`, '}', '',
    ].join('\n'));
    startIn(side, 'nginx', ['-c', join(d, 'nginx.conf'), '-p', d]);
    await waitListening(port);
    return port;
  },
  async client(side, port) {
    const out = await runIn(side, 'wrk', ['-t', '1', '-c', '16', '-d', '3s', `http://127.0.0.1:${port}/f`]);
    if (/Socket errors|Non-2xx/.test(out)) throw new Error(`wrk saw errors: ${out}`);
    const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
    if (!m) throw new Error(`wrk output not understood: ${out}`);
    return Number(m[1]);
  },
});

const iperf = (len: string): App => ({
  name: `iperf3 -l ${len} -t 3`,
  unit: 'Gbit/s',
  async server(side) {
    const port = await freePort();
    startIn(side, 'iperf3', ['-s', '-p', String(port)]);
    await waitListening(port);
    return port;
  },
  async client(side, port) {
    const out = await runIn(side, 'iperf3', ['-c', '127.0.0.1', '-p', String(port), '-l', len, '-t', '3', '-J']);
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
  },
});

const APPS: App[] = [redis(1), redis(16), nginx(4), nginx(256), iperf('128'), iperf('1K'), iperf('64k')];

interface Row { app: string; unit: string; plain: number[]; accel: number[]; verdict?: string; reason?: string }

async function main(): Promise<Row[]> {
  mkdirSync(cg.plain);
  mkdirSync(cg.accel);
  await up({ cgroup: cg.accel, pinDir });
  const ports = new Map<App, Record<Side, number>>();
  for (const app of APPS) {
    const p = { plain: await app.server('plain'), accel: await app.server('accel') };
    ports.set(app, p);
    // Warm-up: caches for both, and the first (observed, plain-TCP) connections of the accelerated service.
    await app.client('plain', p.plain);
    await app.client('accel', p.accel);
  }
  const rows: Row[] = APPS.map((a) => ({ app: a.name, unit: a.unit, plain: [], accel: [] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, app] of APPS.entries()) {
      const order: Side[] = (r + i) % 2 ? ['accel', 'plain'] : ['plain', 'accel'];
      for (const side of order) rows[i]![side].push(await app.client(side, ports.get(app)![side]));
      process.stderr.write(`round ${r + 1}/${rounds} ${app.name}: plain ${rows[i]!.plain.at(-1)!.toFixed(2)} accel ${rows[i]!.accel.at(-1)!.toFixed(2)}\n`);
    }
  }
  const svc = services({ pinDir });
  for (const [i, app] of APPS.entries()) {
    const s = svc.find((x) => x.port === ports.get(app)!.accel);
    if (s) Object.assign(rows[i]!, { verdict: s.verdict, reason: s.reason });
  }
  process.stderr.write(`counters: ${JSON.stringify(stats({ pinDir }))}\n`);
  return rows;
}

async function cleanup(): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  try { await down({ pinDir, force: true, timeoutMs: 0 }); } catch (e) { process.stderr.write(`down: ${(e as Error).message}\n`); }
  for (const d of Object.values(cg)) {
    let last: unknown;
    for (let i = 0; i < 50; i++) {
      try {
        for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
        rmdirSync(d);
        last = undefined;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') { last = undefined; break; }
        last = e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // Never silently: a cgroup left behind is named with what to do.
    if (last) process.stderr.write(`could not remove ${d}: ${(last as Error).message}; kill what is in ${d}/cgroup.procs and rmdir it by hand\n`);
  }
  rmSync(dir, { recursive: true, force: true });
}

process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
try {
  const rows = await main();
  const fx = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`| application | plain TCP | sockaccel (learn) | ratio | learned verdict |`);
  console.log(`| --- | ---: | ---: | ---: | --- |`);
  for (const r of rows) {
    const p = median(r.plain), a = median(r.accel);
    console.log(`| ${r.app} (${r.unit}) | ${fx(p)} [${fx(Math.min(...r.plain))}..${fx(Math.max(...r.plain))}] | ${fx(a)} [${fx(Math.min(...r.accel))}..${fx(Math.max(...r.accel))}] | ${(a / p).toFixed(2)}× | ${r.verdict ? `${r.verdict}: ${r.reason}` : '-'} |`);
  }
  console.log(`\nmedian of ${rounds} interleaved rounds [min..max]`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rounds, rows }, null, 2) + '\n');
} finally {
  await cleanup();
}
