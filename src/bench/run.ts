// `bench`: plain loopback TCP vs TCP through sockaccel (the default policy, learn; and with
// --compare-all also policy "all", every connection redirected) vs an AF_UNIX socketpair, measured
// by one load generator, interleaved (every round runs each size on all transports, in a rotating
// order) so that drift of the machine hits all of them alike. Each row's TCP connections use one
// fixed port, so they form one service for the learning policy, which decides it from a warm-up run;
// the decision is reported per row.
//
// The accelerated runs get their own installs: a temporary cgroup under the cgroup v2 mount and a
// unique pin directory each; the load generator joins that cgroup before it execs. Everything is
// removed in `finally` (also on error and Ctrl-C): down --force, processes left in the cgroup
// killed by pid and moved out, rmdir. Plain TCP and AF_UNIX run in the bench's own cgroup.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { cgroupV2Root } from '../index.js';
import { ownCgroup } from '../accel/cgroup.js';
import { down } from '../accel/down.js';
import { services, stats } from '../accel/status.js';
import { up } from '../accel/up.js';
import { BenchError, buildLoadgen, runLoadgen } from './loadgen.js';
import { median, round, spread } from './stats.js';
import { DEFAULT_DURATION, DEFAULT_LATENCY_SIZE, DEFAULT_ROUNDS, DEFAULT_SIZES } from './defaults.js';
import {
  ACCELERATED, TRANSPORTS, type BenchOptions, type InstallCounters, type RowDecision, type BenchResult, type LatencyResult, type MachineInfo, type ThroughputResult, type Transport,
} from './types.js';

export { DEFAULT_SIZES, DEFAULT_DURATION, DEFAULT_ROUNDS, DEFAULT_LATENCY_SIZE } from './defaults.js';

interface StreamOut { gbps: number; bytes: number; seconds: number }
interface PingOut { p50Us: number; p99Us: number; iterations: number }

export function machineInfo(compiler: string): MachineInfo {
  const c = cpus();
  let virtualized: string | undefined;
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    if (/^flags\s*:.*\bhypervisor\b/m.test(flags)) virtualized = 'yes (hypervisor flag set)';
  } catch { /* unknown */ }
  return {
    kernel: release(),
    arch: arch(),
    cpu: c[0]?.model.trim() ?? 'unknown',
    cpus: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    compiler,
    ...(virtualized ? { virtualized } : {}),
  };
}

/** Processes in a cgroup (ours: only the bench puts any there). */
function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function removeCgroup(dir: string, root: string): Promise<void> {
  if (dir === root || !dir.startsWith(root + '/')) throw new BenchError(`refusing to remove ${dir}`);
  for (let i = 0; existsSync(dir) && i < 100; i++) {
    for (const pid of cgroupPids(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      try { writeFileSync(join(root, 'cgroup.procs'), String(pid)); } catch { /* gone */ }
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  if (existsSync(dir)) throw new BenchError(`could not remove the bench's cgroup ${dir}`);
}

/** Rotate the transport order per round so that none is always first (or always after another). */
function order(transports: readonly Transport[], round: number): Transport[] {
  const k = round % transports.length;
  return [...transports.slice(k), ...transports.slice(0, k)];
}

/** A free TCP port on 127.0.0.1 (bound and released: the load generator binds it again with SO_REUSEADDR). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One temporary sockaccel install of the bench: its own cgroup and pin dir. */
interface Install {
  transport: Transport;
  policy: 'learn' | 'all';
  cgroup: string;
  pinDir: string;
  madeCgroup: boolean;
  installed: boolean;
}

function countersOf(i: Install): InstallCounters {
  const s = stats({ pinDir: i.pinDir });
  return {
    policy: i.policy, redirectedBytes: s.redirectedBytes, redirectedMessages: s.redirectedMessages, passedBytes: s.passedBytes, misses: s.misses,
    decisions: { ...s.decisions },
  };
}

/** The learning policy's decision for the service on 127.0.0.1:port, if it has seen one. */
function decisionFor(i: Install, port: number): RowDecision | undefined {
  const svc = services({ pinDir: i.pinDir }).find((x) => x.port === port && x.address === '127.0.0.1');
  return svc ? { verdict: svc.verdict, reason: svc.reason } : undefined;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const duration = opts.duration ?? DEFAULT_DURATION;
  const rounds = opts.rounds ?? DEFAULT_ROUNDS;
  const latencySize = opts.latencySize ?? DEFAULT_LATENCY_SIZE;
  const compareAll = !!opts.compareAll;
  const say = opts.onProgress ?? (() => {});
  const signal = opts.signal;
  const started = Date.now();
  const transports = TRANSPORTS.filter((t) => t !== 'sockaccel-all' || compareAll);

  const { path: bin, compiler } = buildLoadgen();
  const root = cgroupV2Root();
  const own = ownCgroup();
  const tag = `sockaccel-bench-${process.pid}-${Date.now().toString(36)}`;
  const installs = new Map<Transport, Install>();
  for (const t of transports) {
    if (!ACCELERATED.includes(t)) continue;
    const name = t === 'sockaccel' ? tag : `${tag}-all`;
    installs.set(t, { transport: t, policy: t === 'sockaccel' ? 'learn' : 'all', cgroup: join(root, name), pinDir: join('/sys/fs/bpf', name), madeCgroup: false, installed: false });
  }
  try {
    for (const i of installs.values()) {
      mkdirSync(i.cgroup);
      i.madeCgroup = true;
      if (i.cgroup === own || own.startsWith(i.cgroup + '/')) throw new BenchError('the bench runs inside its own temporary cgroup?');
      say(`installing sockaccel (policy ${i.policy}) in a temporary cgroup ${i.cgroup} (pins in ${i.pinDir})`);
      await up({ cgroup: i.cgroup, pinDir: i.pinDir, objectPath: opts.objectPath, policy: i.policy });
      i.installed = true;
    }

    // One fixed port per transport, mode and size: each row is one service, as a real server's
    // connections are, so the learning policy decides it from the warm-up run.
    const ports = new Map<string, number>();
    const portFor = async (key: string) => {
      if (!ports.has(key)) ports.set(key, await freePort());
      return ports.get(key)!;
    };
    const run = async (mode: 'stream' | 'pingpong', t: Transport, size: number, seconds = duration) => runLoadgen<StreamOut & PingOut>(bin, {
      mode,
      transport: t === 'unix' ? 'unix' : 'tcp',
      size,
      seconds,
      maxIterations: 2_000_000,
      cgroupProcs: installs.has(t) ? join(installs.get(t)!.cgroup, 'cgroup.procs') : undefined,
      port: t === 'unix' ? undefined : await portFor(`${t}/${mode}/${size}`),
      signal,
    });

    // Warm-up, not measured: every transport and size once. For the learning install this is the
    // service's first connection: it runs on TCP, observed, and decides the rows' later ones.
    const warm = Math.min(duration, 0.5);
    for (const t of transports) {
      for (const size of sizes) await run('stream', t, size, warm);
      await run('pingpong', t, latencySize, warm);
    }
    say(`warm-up done (${transports.length} transports x ${sizes.length + 1} runs of ${warm} s)`);

    const tput = new Map<string, number[]>();
    const lat = new Map<Transport, PingOut[]>();
    const total = rounds * transports.length * (sizes.length + 1);
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (const [i, size] of sizes.entries()) {
        for (const t of order(transports, r + i)) {
          const o = await run('stream', t, size);
          const key = `${t}/${size}`;
          tput.set(key, [...(tput.get(key) ?? []), o.gbps]);
          say(`[${++n}/${total}] round ${r + 1} stream ${t} ${size} B: ${o.gbps.toFixed(3)} Gbit/s`);
        }
      }
      for (const t of order(transports, r)) {
        const o = await run('pingpong', t, latencySize);
        lat.set(t, [...(lat.get(t) ?? []), o]);
        say(`[${++n}/${total}] round ${r + 1} ping-pong ${t} ${latencySize} B: p50 ${o.p50Us.toFixed(1)} us, p99 ${o.p99Us.toFixed(1)} us`);
      }
    }
    const learn = installs.get('sockaccel');
    const decided = (t: Transport, key: string) => (t === 'sockaccel' && learn && ports.has(key) ? decisionFor(learn, ports.get(key)!) : undefined);

    const throughput: ThroughputResult[] = [];
    for (const size of sizes) {
      for (const t of transports) {
        const xs = tput.get(`${t}/${size}`)!;
        const sp = spread(xs);
        const decision = decided(t, `${t}/stream/${size}`);
        throughput.push({
          transport: t, size, gbps: round(median(xs)), gbpsMin: round(sp.min), gbpsMax: round(sp.max),
          spread: round(sp.spread, 3), rounds: xs.map((x) => round(x)), ...(decision ? { decision } : {}),
        });
      }
    }
    const latency: LatencyResult[] = transports.map((t) => {
      const xs = lat.get(t)!;
      const p50s = xs.map((x) => x.p50Us);
      const decision = decided(t, `${t}/pingpong/${latencySize}`);
      return {
        transport: t, size: latencySize,
        p50Us: round(median(p50s), 2), p99Us: round(median(xs.map((x) => x.p99Us)), 2),
        p50Min: round(Math.min(...p50s), 2), p50Max: round(Math.max(...p50s), 2),
        iterations: Math.round(median(xs.map((x) => x.iterations))),
        rounds: xs.map((x) => ({ p50Us: round(x.p50Us, 2), p99Us: round(x.p99Us, 2) })),
        ...(decision ? { decision } : {}),
      };
    });
    const all = installs.get('sockaccel-all');
    return {
      throughput,
      latency,
      machine: machineInfo(compiler),
      transports,
      sockaccel: countersOf(learn!),
      ...(all ? { sockaccelAll: countersOf(all) } : {}),
      settings: { sizes, duration, rounds, latencySize, compareAll, startedAt: new Date(started).toISOString(), seconds: round((Date.now() - started) / 1000, 1) },
    };
  } finally {
    const errors: string[] = [];
    for (const i of installs.values()) {
      // Kill what is left of the peers first: their sockets are what keeps the install busy.
      if (i.madeCgroup) for (const pid of cgroupPids(i.cgroup)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      if (i.installed || existsSync(i.pinDir)) {
        try { await down({ pinDir: i.pinDir, force: true, timeoutMs: 0 }); } catch (e) { errors.push(`down ${i.pinDir}: ${(e as Error).message}`); }
      }
      // up() may have made the directory and failed before pinning anything: down() leaves an empty
      // directory without an install record alone.
      try { if (existsSync(i.pinDir) && readdirSync(i.pinDir).length === 0) rmdirSync(i.pinDir); } catch (e) { errors.push(`rmdir ${i.pinDir}: ${(e as Error).message}`); }
      if (i.madeCgroup) {
        try { await removeCgroup(i.cgroup, root); } catch (e) { errors.push((e as Error).message); }
      }
    }
    if (errors.length) say(`cleanup problems: ${errors.join('; ')}`);
  }
}
