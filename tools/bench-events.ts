// Ring buffer readers compared on the same producer: libbpf's ring_buffer__poll (tools/ringbuf-oracle.c)
// and RingBufferReader in its three ways of reading, each in a process of its own, while a C
// producer offers a steady rate of records. Also a Node process with no reader at all, for the
// event-loop lag this (shared, loaded) machine causes by itself.
//
// Run by hand (root; not part of npm test):
//   npm run build && node dist/tools/bench-events.js [--rate 1000000] [--seconds 3] [--rounds 5]
//     [--size 64] [--batch 100] [--ring 4194304] [--consumers libbpf,view,copy,iter,idle] [--nice N] [--json FILE] [--cpu-prof DIR]
// --rate 0 offers records flat out (the consumers' ceiling).
//
// Method: the bench loads bpf/fixtures/events.bpf.o with this package and pins its ring map and its
// ring_output program in a private bpffs directory. Each measurement starts one consumer process,
// waits for it to say "ready", then runs the producer: BPF_PROG_TEST_RUN of ring_output, BATCH
// records per run, runs paced to RATE records/s for SECONDS. A consumer times every record it gets
// (CLOCK_MONOTONIC / performance.now()); its rate is (records - 1) / (last - first). Sequence
// numbers give the records it never saw (dropped by the producer because the ring was full: the
// program counts those too) and any out of order. Latency: the program stamps each record with
// bpf_ktime_get_ns() (CLOCK_MONOTONIC) as it outputs it; every 64th record the consumer subtracts that
// from its own CLOCK_MONOTONIC in the callback (p50/p99 in µs). The Node consumers run monitorEventLoopDelay
// (1 ms resolution) meanwhile. Rounds interleave the consumers in an order rotated by round;
// results are medians with min–max over the rounds.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BpfMap, BpfObject, RingBufferReader } from '../src/index.js';
import { cacheDirCandidates, findCompiler } from '../src/bench/loadgen.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ORACLE_SOURCE = join(REPO, 'tools', 'ringbuf-oracle.c');

type Consumer = 'libbpf' | 'view' | 'copy' | 'iter' | 'idle';
const CONSUMERS: Record<Consumer, string> = {
  libbpf: "libbpf ring_buffer__poll (C)",
  view: "RingBufferReader on('data'), copy: false",
  copy: "RingBufferReader on('data'), copies",
  iter: 'RingBufferReader for await, copies',
  idle: 'Node, no reader (lag baseline)',
};

/** What a consumer process prints at the end. */
interface ConsumerResult {
  events: number;
  first_ns: number;
  last_ns: number;
  gaps: number;
  disorder: number;
  cpu_ns: number;
  lag?: { p50: number; p99: number; max: number; mean: number };
  /** µs from bpf_ringbuf_output() (bpf_ktime_get_ns) to the callback, every LATENCY_EVERY-th record. */
  latency: { p50: number; p99: number; samples: number };
  /** Waits that reported the ring ready (Node readers). */
  wakeups?: number;
}

interface Measurement extends ConsumerResult {
  consumer: Consumer;
  round: number;
  offered: number;
  producerSeconds: number;
  /** Records the program could not write (ring full), from its .bss counter. */
  drops: number;
  rate: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Niceness of the producer and every consumer (--nice; the same for all). */
const NICE = Number(arg('nice', '0'));
/** --cpu-prof DIR: the Node consumers write V8 CPU profiles there. */
const PROFILE = process.argv.includes('--cpu-prof') ? arg('cpu-prof', '') : '';

// --- the Node consumer (a child process of the bench) ---

/** Every how many records (by sequence number) latency is taken; the same in tools/ringbuf-oracle.c. */
const LATENCY_EVERY = 64;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? Math.round(sorted[Math.floor(((sorted.length - 1) * p) / 100)]! * 1e3) / 1e3 : 0;
}

async function consumeNode(mode: Consumer, pin: string, seconds: number): Promise<void> {
  const map = BpfMap.fromPin(pin);
  const reader = mode === 'idle' ? undefined : new RingBufferReader(map, { copy: mode !== 'view' });
  map.close();
  reader?.consume(() => {});
  let events = 0;
  let first = 0;
  let last = 0;
  let gaps = 0;
  let disorder = 0;
  let next = 0;
  const latency = new Float64Array(1 << 20);
  let latencies = 0;
  const onRecord = (data: Buffer) => {
    // The low half of the sequence number is enough within one run.
    const seq = data.readUInt32LE(0);
    const now = performance.now();
    // hrtime is CLOCK_MONOTONIC, as bpf_ktime_get_ns() is; a BigInt per sample only, not per record.
    if (seq % LATENCY_EVERY === 0 && latencies < latency.length) latency[latencies++] = Number(process.hrtime.bigint() - data.readBigUInt64LE(16)) / 1e3;
    if (events === 0) first = now;
    else if (seq > next) gaps += seq - next;
    else if (seq < next) disorder++;
    last = now;
    next = seq + 1;
    events++;
  };
  const lag = monitorEventLoopDelay({ resolution: 1 });
  process.stdout.write('ready\n');
  lag.enable();
  const cpu0 = process.cpuUsage();
  const done = new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
  if (mode === 'view' || mode === 'copy') reader!.on('data', onRecord);
  if (mode === 'iter') {
    void (async () => {
      for await (const data of reader!) onRecord(data);
    })();
  }
  await done;
  reader?.close();
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  const sorted = latency.subarray(0, latencies).sort();
  const result: ConsumerResult = {
    latency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: latencies },
    events, first_ns: Math.round(first * 1e6), last_ns: Math.round(last * 1e6), gaps, disorder, cpu_ns: (cpu.user + cpu.system) * 1000,
    lag: { p50: ms(lag.percentile(50)), p99: ms(lag.percentile(99)), max: ms(lag.max), mean: ms(lag.mean) },
    wakeups: reader?.stats.wakeups,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

// --- the bench ---

function buildOracle(): string | undefined {
  const cc = findCompiler();
  if (!cc || !existsSync('/usr/include/bpf/libbpf.h')) {
    console.log(`skipped: the libbpf oracle needs a C compiler and libbpf's headers (${!cc ? 'no compiler found' : '/usr/include/bpf/libbpf.h missing'}): apt install gcc libbpf-dev`);
    return undefined;
  }
  const source = readFileSync(ORACLE_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = cacheDirCandidates().find((d) => {
    try {
      mkdirSync(d, { recursive: true });
      accessSync(d, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!dir) throw new Error('no writable cache directory for the oracle');
  const path = join(dir, `ringbuf-oracle-${hash}`);
  if (existsSync(path)) return path;
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', `${path}.tmp`, ORACLE_SOURCE, '-lbpf'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`skipped: building tools/ringbuf-oracle.c with ${cc} failed (is libbpf-dev installed?):\n${r.stderr}`);
    return undefined;
  }
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Run a child; resolve with its last stdout line as JSON. `onReady` runs when it prints "ready". */
function runChild<T>(cmd: string, args: string[], onReady?: () => Promise<unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // detached: a session of its own, so (with sched autogroup) the scheduler weighs it as it would
    // a service of its own, not as one process of the bench's group. nice(1) before exec: every
    // thread the child starts (libuv's pool, V8's GC helpers) inherits it.
    const [file, argv] = NICE !== 0 ? ['nice', ['-n', String(NICE), cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let out = '';
    let readySeen = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')}: overtime`)); }, 120_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!readySeen && out.includes('ready\n')) {
        readySeen = true;
        onReady?.().catch((e) => { child.kill('SIGKILL'); reject(e); });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n');
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
      try {
        resolve(JSON.parse(lines[lines.length - 1]!) as T);
      } catch {
        reject(new Error(`${cmd}: no result in ${JSON.stringify(out)}`));
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function bench(): Promise<void> {
  const rate = Number(arg('rate', '1000000'));
  const seconds = Number(arg('seconds', '3'));
  const rounds = Number(arg('rounds', '5'));
  const size = Number(arg('size', '64'));
  const batch = Number(arg('batch', '100'));
  const ringSize = Number(arg('ring', String(4 << 20)));
  const consumers = arg('consumers', 'libbpf,view,copy,iter,idle').split(',') as Consumer[];
  const jsonOut = process.argv.includes('--json') ? arg('json', '') : '';
  const oracle = buildOracle();
  if (!oracle) return;

  const obj = BpfObject.open(join(REPO, 'bpf', 'fixtures', 'events.bpf.o'));
  obj.maps.get('ring')!.maxEntries = ringSize;
  const loaded = obj.load();
  const dir = `/sys/fs/bpf/sockaccel-bench-events-${process.pid}`;
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));
  mkdirSync(dir, { recursive: true });
  loaded.maps.get('ring')!.pin(`${dir}/ring`);
  loaded.programs.get('ring_output')!.pin(`${dir}/ring_output`);
  const drops = () => Number(loaded.maps.get('.bss')!.lookup(Buffer.alloc(4))!.readBigUInt64LE(8));

  console.log(`offered ${rate ? `${(rate / 1e6).toFixed(2)} M records/s` : 'flat out'}, ${size}-byte records (${(size + 15) & ~7} in the ring), ${batch} per BPF_PROG_TEST_RUN, ring ${ringSize >> 10} KiB, ${seconds} s × ${rounds} rounds, nice ${NICE}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const all: Measurement[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = consumers.map((_, i) => consumers[(i + round) % consumers.length]!);
    for (const consumer of order) {
      const consumerSeconds = seconds + 1;
      const before = drops();
      let produced: { offered: number; seconds: number } | undefined;
      const startProducer = async () => {
        produced = await runChild(oracle, ['produce', `${dir}/ring_output`, String(rate), String(seconds), String(batch), String(size)]);
      };
      const result = consumer === 'libbpf'
        ? await runChild<ConsumerResult>(oracle, ['consume', `${dir}/ring`, String(consumerSeconds)], startProducer)
        : await runChild<ConsumerResult>(process.execPath, [...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE] : []), fileURLToPath(import.meta.url), '--consume', consumer, `${dir}/ring`, String(consumerSeconds)], startProducer);
      // The producer ran inside the consumer's lifetime; make sure it is done.
      while (!produced) await new Promise((r) => setTimeout(r, 10));
      const span = (result.last_ns - result.first_ns) / 1e9;
      const m: Measurement = {
        ...result, consumer, round, offered: produced.offered, producerSeconds: produced.seconds, drops: drops() - before,
        rate: result.events > 1 && span > 0 ? (result.events - 1) / span : 0,
      };
      all.push(m);
      const lat = consumer === 'idle' ? '' : `  latency p50 ${m.latency.p50} p99 ${m.latency.p99} µs`;
      const lag = m.lag ? `  lag p50 ${m.lag.p50} p99 ${m.lag.p99} max ${m.lag.max} ms` : '';
      const cost = m.events ? `  ${(m.cpu_ns / m.events).toFixed(0)} CPU-ns/record${m.wakeups !== undefined ? `, ${m.wakeups} wake-ups` : ''}` : '';
      console.log(`  round ${round + 1} ${consumer.padEnd(6)} ${consumer === 'idle' ? '' : `${(m.rate / 1e6).toFixed(3)} M/s  got ${m.events} of ${m.offered} (dropped ${m.drops}, unseen ${m.gaps}, out of order ${m.disorder})  CPU ${(m.cpu_ns / 1e7 / consumerSeconds).toFixed(0)}%${cost}${lat}`}${lag}`);
    }
  }
  cleanup();
  loaded.close();

  console.log(`\nload average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; median (min–max) over the rounds`);
  const libbpfRate = median(all.filter((m) => m.consumer === 'libbpf').map((m) => m.rate));
  console.log('| consumer | records/s consumed | vs libbpf | dropped | CPU | latency p50 µs | latency p99 µs | lag p50 ms | lag p99 ms | lag max ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of consumers) {
    const ms = all.filter((m) => m.consumer === c);
    const spread = (f: (m: Measurement) => number, fmt: (x: number) => string) => {
      const xs = ms.map(f);
      return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
    };
    const mega = (x: number) => `${(x / 1e6).toFixed(3)} M`;
    const pct = (x: number) => `${x.toFixed(0)}%`;
    const f2 = (x: number) => x.toFixed(2);
    const rateCol = c === 'idle' ? '—' : spread((m) => m.rate, mega);
    const ratio = c === 'idle' || !libbpfRate ? '—' : `${(median(ms.map((m) => m.rate)) / libbpfRate).toFixed(2)}×`;
    const dropped = c === 'idle' ? '—' : spread((m) => (m.offered ? (100 * m.drops) / m.offered : 0), (x) => `${x.toFixed(1)}%`);
    const cpu = spread((m) => m.cpu_ns / 1e7 / (seconds + 1), pct);
    const lag = (k: 'p50' | 'p99' | 'max') => (ms[0]?.lag ? spread((m) => m.lag![k], f2) : '—');
    const lat = (k: 'p50' | 'p99') => (c === 'idle' ? '—' : spread((m) => m.latency[k], (x) => x.toFixed(0)));
    console.log(`| ${CONSUMERS[c]} | ${rateCol} | ${ratio} | ${dropped} | ${cpu} | ${lat('p50')} | ${lat('p99')} | ${lag('p50')} | ${lag('p99')} | ${lag('max')} |`);
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rate, seconds, rounds, size, batch, ringSize, measurements: all }, null, 2));
}

if (process.argv[2] === '--consume') {
  await consumeNode(process.argv[3] as Consumer, process.argv[4]!, Number(process.argv[5]));
} else {
  await bench();
}
