// `bench`: plain loopback TCP vs TCP through sockaccel (policy learn; --compare-all adds policy all)
// vs AF_UNIX, by write size, side by side, with the policy's decision per row.
import { InvalidArgumentError, type Command } from 'commander';
// The bench and the accelerator load when the verb runs, not for every command's --help.
import { DEFAULT_DURATION, DEFAULT_LATENCY_SIZE, DEFAULT_ROUNDS, DEFAULT_SIZES } from '../bench/defaults.js';

export interface BenchIo {
  out(text: string): void;
  err(text: string): void;
}

function sizeList(v: string): number[] {
  const xs = v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(\d+)([kKmM]?)$/.exec(s);
    if (!m) throw new InvalidArgumentError(`--sizes takes byte counts separated by commas (e.g. 128,1024,16k), not "${s}"`);
    const n = Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024) : 1);
    if (n < 1 || n > 64 * 1024 * 1024) throw new InvalidArgumentError(`write sizes must be 1 byte to 64 MiB, not ${s}`);
    return n;
  });
  if (xs.length === 0) throw new InvalidArgumentError('--sizes needs at least one size');
  return [...new Set(xs)].sort((a, b) => a - b);
}

function positive(what: string, integer: boolean, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${what} must be a ${integer ? 'whole ' : ''}number greater than 0 and at most ${max}, not "${v}"`);
    }
    return n;
  };
}

/** Register `bench` on the program; `setExit` receives its exit code. */
export function registerBench(program: Command, io: BenchIo, setExit: (code: number) => void): void {
  program.command('bench')
    .description('measure plain loopback TCP vs TCP through sockaccel vs AF_UNIX, by write size, side by side, with the policy\'s decision per row')
    .option('--sizes <list>', `write sizes in bytes, comma-separated (k and m suffixes)`, sizeList, DEFAULT_SIZES)
    .option('--duration <seconds>', 'seconds per run (each transport, size and round)', positive('--duration', false, 600), DEFAULT_DURATION)
    .option('--rounds <n>', 'rounds; results are the median of the rounds', positive('--rounds', true, 100), DEFAULT_ROUNDS)
    .option('--latency-size <bytes>', 'ping-pong message size', positive('--latency-size', true, 1 << 20), DEFAULT_LATENCY_SIZE)
    .option('--compare-all', 'also measure an install with policy "all" (every connection redirected, the unsafe mode) for comparison')
    .option('--json', 'print the result as JSON')
    .option('--out <dir>', 'also write bench.json, bench.svg (chart) and bench.md (table) into DIR')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Installs its own temporary sockaccel (a temporary cgroup and pin directory, removed afterwards, also
on Ctrl-C) and builds its load generator (tools/loadgen.c) with the system C compiler on first use.
Each row's connections share one port (one service), so the learning policy decides it from a
warm-up run; the "policy" column says what it decided ("redirected", or why it stayed on TCP).

Examples:
  sudo sockaccel-ffi bench
  sudo sockaccel-ffi bench --sizes 128,1024 --duration 2 --out /tmp/bench
  sudo sockaccel-ffi bench --compare-all          (learn vs always-redirect vs plain TCP)`)
    .action(async (o: { sizes: number[]; duration: number; rounds: number; latencySize: number; json?: boolean; out?: string; quiet?: boolean; compareAll?: boolean }) => {
      const { requirePrivileges, renderText, runBench, writeBenchOutputs } = await import('./verbs.js');
      requirePrivileges('bench');
      const ac = new AbortController();
      const abort = () => ac.abort();
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      try {
        let r;
        try {
          r = await runBench({
            sizes: o.sizes, duration: o.duration, rounds: o.rounds, latencySize: o.latencySize, compareAll: !!o.compareAll, signal: ac.signal,
            onProgress: o.quiet ? undefined : (l) => io.err(l + '\n'),
          });
        } catch (e) {
          if (!ac.signal.aborted) throw e;
          io.err('bench: interrupted; the temporary install and cgroup were removed\n');
          setExit(130);
          return;
        }
        if (o.json) io.out(JSON.stringify(r, null, 2) + '\n');
        else io.out(renderText(r) + '\n');
        if (o.out) {
          const files = writeBenchOutputs(o.out, r);
          io.err(`wrote ${files.join(', ')}\n`);
        }
      } finally {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
      setExit(0);
    });
}
