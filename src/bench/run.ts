// `bench`: plain loopback TCP vs TCP through sockaccel vs an AF_UNIX socketpair, measured by one
// load generator, interleaved (every round runs each size on all three transports, in a rotating
// order) so that drift of the machine hits all of them alike.
//
// The accelerated runs get their own install: a temporary cgroup under the cgroup v2 mount and a
// unique pin directory; the load generator joins that cgroup before it execs. Everything is
// removed in `finally` (also on error and Ctrl-C): down --force, processes left in the cgroup
// killed by pid and moved out, rmdir. Plain TCP and AF_UNIX run in the bench's own cgroup.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { cgroupV2Root } from '../index.js';
import { ownCgroup } from '../accel/cgroup.js';
import { down } from '../accel/down.js';
import { stats } from '../accel/status.js';
import { up } from '../accel/up.js';
import { BenchError, buildLoadgen, runLoadgen } from './loadgen.js';
import { median, round, spread } from './stats.js';
import {
  TRANSPORTS, type BenchOptions, type BenchResult, type LatencyResult, type MachineInfo, type ThroughputResult, type Transport,
} from './types.js';

export const DEFAULT_SIZES = [128, 1024, 16384, 65536];
export const DEFAULT_DURATION = 1;
export const DEFAULT_ROUNDS = 5;
export const DEFAULT_LATENCY_SIZE = 64;

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
function order(round: number): Transport[] {
  const k = round % TRANSPORTS.length;
  return [...TRANSPORTS.slice(k), ...TRANSPORTS.slice(0, k)];
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const duration = opts.duration ?? DEFAULT_DURATION;
  const rounds = opts.rounds ?? DEFAULT_ROUNDS;
  const latencySize = opts.latencySize ?? DEFAULT_LATENCY_SIZE;
  const say = opts.onProgress ?? (() => {});
  const signal = opts.signal;
  const started = Date.now();

  const { path: bin, compiler } = buildLoadgen();
  const root = cgroupV2Root();
  const own = ownCgroup();
  const tag = `sockaccel-bench-${process.pid}-${Date.now().toString(36)}`;
  const cgroup = join(root, tag);
  const pinDir = join('/sys/fs/bpf', tag);
  let installed = false;
  let madeCgroup = false;
  try {
    mkdirSync(cgroup);
    madeCgroup = true;
    if (cgroup === own || own.startsWith(cgroup + '/')) throw new BenchError('the bench runs inside its own temporary cgroup?');
    say(`installing sockaccel in a temporary cgroup ${cgroup} (pins in ${pinDir})`);
    await up({ cgroup, pinDir, objectPath: opts.objectPath });
    installed = true;
    const procs = join(cgroup, 'cgroup.procs');

    const run = (mode: 'stream' | 'pingpong', t: Transport, size: number) => runLoadgen<StreamOut & PingOut>(bin, {
      mode,
      transport: t === 'unix' ? 'unix' : 'tcp',
      size,
      seconds: duration,
      maxIterations: 2_000_000,
      cgroupProcs: t === 'sockaccel' ? procs : undefined,
      signal,
    });

    const tput = new Map<string, number[]>();
    const lat = new Map<Transport, PingOut[]>();
    const total = rounds * TRANSPORTS.length * (sizes.length + 1);
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (const [i, size] of sizes.entries()) {
        for (const t of order(r + i)) {
          const o = await run('stream', t, size);
          const key = `${t}/${size}`;
          tput.set(key, [...(tput.get(key) ?? []), o.gbps]);
          say(`[${++n}/${total}] round ${r + 1} stream ${t} ${size} B: ${o.gbps.toFixed(3)} Gbit/s`);
        }
      }
      for (const t of order(r)) {
        const o = await run('pingpong', t, latencySize);
        lat.set(t, [...(lat.get(t) ?? []), o]);
        say(`[${++n}/${total}] round ${r + 1} ping-pong ${t} ${latencySize} B: p50 ${o.p50Us.toFixed(1)} us, p99 ${o.p99Us.toFixed(1)} us`);
      }
    }
    const s = stats({ pinDir });

    const throughput: ThroughputResult[] = [];
    for (const size of sizes) {
      for (const t of TRANSPORTS) {
        const xs = tput.get(`${t}/${size}`)!;
        const sp = spread(xs);
        throughput.push({
          transport: t, size, gbps: round(median(xs)), gbpsMin: round(sp.min), gbpsMax: round(sp.max),
          spread: round(sp.spread, 3), rounds: xs.map((x) => round(x)),
        });
      }
    }
    const latency: LatencyResult[] = TRANSPORTS.map((t) => {
      const xs = lat.get(t)!;
      const p50s = xs.map((x) => x.p50Us);
      return {
        transport: t, size: latencySize,
        p50Us: round(median(p50s), 2), p99Us: round(median(xs.map((x) => x.p99Us)), 2),
        p50Min: round(Math.min(...p50s), 2), p50Max: round(Math.max(...p50s), 2),
        iterations: Math.round(median(xs.map((x) => x.iterations))),
        rounds: xs.map((x) => ({ p50Us: round(x.p50Us, 2), p99Us: round(x.p99Us, 2) })),
      };
    });
    return {
      throughput,
      latency,
      machine: machineInfo(compiler),
      sockaccel: { redirectedBytes: s.redirectedBytes, redirectedMessages: s.redirectedMessages, passedBytes: s.passedBytes, misses: s.misses },
      settings: { sizes, duration, rounds, latencySize, startedAt: new Date(started).toISOString(), seconds: round((Date.now() - started) / 1000, 1) },
    };
  } finally {
    const errors: string[] = [];
    if (madeCgroup) {
      // Kill what is left of the peers first: their sockets are what keeps the install busy.
      for (const pid of cgroupPids(cgroup)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    if (installed || existsSync(pinDir)) {
      try { await down({ pinDir, force: true, timeoutMs: 0 }); } catch (e) { errors.push(`down: ${(e as Error).message}`); }
    }
    // up() may have made the directory and failed before pinning anything: down() leaves an empty
    // directory without an install record alone.
    try { if (existsSync(pinDir) && readdirSync(pinDir).length === 0) rmdirSync(pinDir); } catch (e) { errors.push(`rmdir ${pinDir}: ${(e as Error).message}`); }
    if (madeCgroup) {
      try { await removeCgroup(cgroup, root); } catch (e) { errors.push((e as Error).message); }
    }
    if (errors.length) say(`cleanup problems: ${errors.join('; ')}`);
  }
}
