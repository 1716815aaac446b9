// The command line: commander wiring only. Every verb calls a library function and formats its
// result; exit codes are 0 success, 1 failure, 2 bad usage.
// The verbs' modules are imported when the verb runs, so `--help` loads commander and this file only.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { packageVersion } from '../accel/layout.js';
import { privileged } from '../sys/caps.js';
import { DEFAULT_PIN_DIR, type Stats } from '../accel/types.js';
import type { TraceLine } from '../trace/trace-pipe.js';
import { describeError, exitCodeFor, Exit, PRIVILEGE_FIX } from './errors.js';
import { registerInspect } from './inspect.js';
import { registerGen } from './gen.js';
import { registerBench } from './bench.js';
import { registerAgent } from './agent.js';
import { registerFeatures } from './features.js';
import {
  renderDoctor, renderDown, renderDownProgress, renderServices, renderStats, renderStatsRates, renderStatus, renderVerify, socketsText, upCommand,
} from './format.js';

const accel = () => import('./verbs.js');

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress lines are then rewritten in place). */
  errIsTty: boolean;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  errIsTty: !!process.stderr.isTTY,
};

const NAME = 'sockaccel-ffi';

const DESCRIPTION = `Same-host TCP acceleration with eBPF. TCP connections between processes on this
machine (over loopback) skip the TCP/IP stack: a sock_ops program records each
connection in a socket map, and an sk_msg program hands the data straight to the
peer socket. Applications change nothing. Needs Linux 5.15+ and root.`;

const EXAMPLES = `
Examples:
  sudo npx ${NAME} doctor           check that this machine can run it
  sudo npx ${NAME} up               accelerate same-host TCP where it is safe and faster (learned per service)
  sudo npx ${NAME} up --cgroup /sys/fs/cgroup/myapp
                                          ...or only for the processes in one cgroup
  sudo npx ${NAME} status           is it installed, where, how many connections
  sudo npx ${NAME} services         what it learned: each service, accelerated or not, and why
  sudo npx ${NAME} stats --watch    bytes redirected vs passed, per second
  sudo npx ${NAME} verify           prove it: send data, compare with lo's byte count
  sudo npx ${NAME} down             remove it (waits for accelerated connections to close)

Exit codes: 0 success, 1 failure, 2 bad usage. Add --debug to see stack traces.`;

function portList(what: string) {
  return (v: string): number[] => {
    const ports = v.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    if (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      throw new InvalidArgumentError(`${what} must be a comma-separated list of ports (1-65535), not "${v}"`);
    }
    return ports;
  };
}

function seconds(what: string, allowZero: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
      throw new InvalidArgumentError(`${what} must be a number of seconds${allowZero ? '' : ' greater than 0'}, not "${v}"`);
    }
    return n;
  };
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  const t = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
  const stop = () => { clearTimeout(t); resolve(); };
  signal.addEventListener('abort', stop, { once: true });
});

/** An AbortSignal that fires on Ctrl-C (or SIGTERM); call the returned release() when done. */
function interruptSignal(): { signal: AbortSignal; release(): void } {
  const ac = new AbortController();
  const abort = () => ac.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: ac.signal,
    release: () => { process.off('SIGINT', abort); process.off('SIGTERM', abort); },
  };
}

function formatTraceLine(l: TraceLine): string {
  if (l.timestamp === undefined) return l.message;
  return `${l.timestamp.toFixed(6)} ${l.task}-${l.pid} [${l.cpu}] ${l.message}`;
}

/** Build the program. `setExit` receives each verb's exit code. */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const json = (v: unknown) => io.out(JSON.stringify(v, null, 2) + '\n');
  const line = (t: string) => io.out(t + '\n');
  const explainer = (on: boolean | undefined) => (on ? (l: string) => io.out(`  - ${l}\n`) : undefined);
  const pinDirOption = () => new Option('--pin-dir <dir>', 'where the install is pinned (on bpffs)').default(DEFAULT_PIN_DIR);

  const program = new Command(NAME)
    .description(DESCRIPTION)
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'show stack traces on errors')
    .helpOption('-h, --help', 'show help (also: <command> --help)')
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .exitOverride();

  const collect = (v: string, prev: string[] = []) => [...prev, v];
  program.command('up')
    .description('install the accelerator and attach it (idempotent; a policy change applies in place; other settings replace the install)')
    .option('--cgroup <dir>', 'cgroup v2 directory to accelerate; repeat for several (default: the cgroup v2 root: the whole machine)', collect)
    .option('--exclude-cgroup <dir>', 'a cgroup below an accelerated one whose connections stay on TCP; repeatable', collect)
    .addOption(new Option('--policy <policy>', 'learn: per service, only readers sockmap serves correctly and traffic it makes faster; all: every loopback connection (unsafe for splice and blocking readers; needs --cgroup)').choices(['learn', 'all']).default('learn'))
    .option('--ports <list>', 'only connections to these server ports are candidates (comma-separated)', portList('--ports'))
    .option('--exclude-ports <list>', 'connections to these server ports always stay on TCP (comma-separated)', portList('--exclude-ports'))
    .addOption(pinDirOption())
    .option('--trace', 'log a trace line per decision and per miss (read with: trace)')
    .option('--explain', 'narrate each step')
    .addHelpText('after', `\nExamples:\n  sudo ${NAME} up                                  learn per service, whole machine\n  sudo ${NAME} up --cgroup /sys/fs/cgroup/myapp --trace\n  sudo ${NAME} up --ports 6379,8080 --exclude-cgroup /sys/fs/cgroup/system.slice/haproxy.service\n  sudo ${NAME} up --cgroup /sys/fs/cgroup/redis --policy all   (known non-blocking, non-splice readers only)`)
    .action(async (o: { cgroup?: string[]; excludeCgroup?: string[]; policy: 'learn' | 'all'; ports?: number[]; excludePorts?: number[]; pinDir: string; trace?: boolean; explain?: boolean }) => {
      const { up } = await accel();
      const r = await up({
        cgroup: o.cgroup, excludeCgroups: o.excludeCgroup, policy: o.policy, ports: o.ports, excludePorts: o.excludePorts,
        pinDir: o.pinDir, trace: o.trace, explain: explainer(o.explain),
      });
      if (!r.changed) line('sockaccel: already up with these settings: nothing changed');
      else if (r.replaced) line('sockaccel: replaced the previous install (it had other settings)');
      else if (r.inPlace) line(`sockaccel: changed in place (${r.inPlace.join(', ')}); accelerated connections stay accelerated`);
      if (o.policy === 'all') io.err('warning: policy "all" redirects every connection, including splice(2) readers (they see no data) and blocking readers (EAGAIN after a half-close or a signal)\n');
      line(renderStatus(r.status));
      setExit(Exit.ok);
    });

  program.command('services')
    .description('list the services the learning policy has seen: server address and port, verdict and why')
    .addOption(pinDirOption())
    .option('--json', 'print the list as JSON')
    .action(async (o: { pinDir: string; json?: boolean }) => {
      const { services } = await accel();
      const list = services({ pinDir: o.pinDir });
      if (o.json) json(list.map((x) => ({ ...x, netns: x.netns.toString() })));
      else line(renderServices(list));
      setExit(Exit.ok);
    });

  program.command('down')
    .description('detach and remove the accelerator, after its connections have closed')
    .addOption(pinDirOption())
    .option('--timeout <seconds>', 'how long to wait for accelerated connections to close', seconds('--timeout', true), 30)
    .option('--force', 'remove everything now, even with accelerated connections open (they may see errors)')
    .option('--explain', 'narrate each step')
    .action(async (o: { pinDir: string; timeout: number; force?: boolean; explain?: boolean }) => {
      const timeoutMs = o.timeout * 1000;
      let shown = false;
      let lastPrinted = -Infinity;
      const { down } = await accel();
      const r = await down({
        pinDir: o.pinDir,
        timeoutMs,
        force: o.force,
        explain: explainer(o.explain),
        onProgress: (remaining: number, elapsedMs: number) => {
          const text = renderDownProgress(remaining, elapsedMs, timeoutMs);
          if (io.errIsTty) {
            io.err(`\r\x1b[K${text}`);
            shown = true;
          } else if (elapsedMs - lastPrinted >= 5000) {
            io.err(text + '\n');
            lastPrinted = elapsedMs;
          }
        },
      });
      if (shown) io.err('\r\x1b[K');
      line(renderDown(r, o.pinDir));
      if (r.wasUp && !r.complete) {
        io.err(`error: ${socketsText(r.remaining)} still accelerated after ${o.timeout}s; new connections are no longer accelerated\n`);
        io.err(`run down again once they have closed, or down --force to remove it now (open connections may see errors)\n`);
        setExit(Exit.failure);
        return;
      }
      setExit(Exit.ok);
    });

  program.command('status')
    .description('show whether the accelerator is installed, where and how it is attached, and connections now')
    .addOption(pinDirOption())
    .option('--json', 'print the status as JSON')
    .action(async (o: { pinDir: string; json?: boolean }) => {
      const { status } = await accel();
      const s = status({ pinDir: o.pinDir });
      if (o.json) json(s);
      else line(renderStatus(s));
      if (!s.up && !privileged()) io.err(`note: not running as root, so pins in ${o.pinDir} may be unreadable: this answer may be wrong (${PRIVILEGE_FIX})\n`);
      setExit(Exit.ok);
    });

  program.command('stats')
    .description('show the counters: bytes redirected socket to socket vs passed to TCP/IP, misses')
    .addOption(pinDirOption())
    .option('--json', 'print the counters as JSON (with --watch: one object per line)')
    .addOption(new Option('--watch [seconds]', 'print rates every SECONDS (default 1) until Ctrl-C').argParser(seconds('--watch', false)))
    .action(async (o: { pinDir: string; json?: boolean; watch?: number | true }) => {
      const { stats, trackedConnections } = await accel();
      const first = stats({ pinDir: o.pinDir });
      if (o.watch === undefined) {
        if (o.json) json(first);
        else line(renderStats(first));
        setExit(Exit.ok);
        return;
      }
      const intervalMs = (o.watch === true ? 1 : o.watch) * 1000;
      const { signal, release } = interruptSignal();
      try {
        if (o.json) io.out(JSON.stringify({ time: new Date().toISOString(), ...first }) + '\n');
        else line(renderStats(first) + '\n');
        let prev: Stats = first;
        let prevAt = Date.now();
        while (!signal.aborted) {
          await sleep(intervalMs, signal);
          if (signal.aborted) break;
          const cur = stats({ pinDir: o.pinDir });
          const now = Date.now();
          if (o.json) io.out(JSON.stringify({ time: new Date(now).toISOString(), ...cur }) + '\n');
          else line(renderStatsRates(prev, cur, now - prevAt, new Date(now), trackedConnections(o.pinDir)));
          prev = cur;
          prevAt = now;
        }
      } finally {
        release();
      }
      setExit(Exit.ok);
    });

  program.command('trace')
    .description('stream the trace lines of an install made with --trace (one per connection and miss) until Ctrl-C')
    .addOption(pinDirOption())
    .action(async (o: { pinDir: string }) => {
      const { status, trace } = await accel();
      if (privileged()) try {
        const s = status({ pinDir: o.pinDir });
        if (!s.up && s.state !== 'draining') {
          io.err(`note: sockaccel is not installed in ${o.pinDir}; install it with tracing on: ${upCommand({ pinDir: o.pinDir, trace: true })} (add --cgroup DIR for one cgroup)\n`);
        } else if (!s.trace) {
          io.err(`note: this install was made without --trace, so it logs nothing; turn tracing on with: ${upCommand(s, { trace: true })}\n`);
        }
      } catch { /* no status (no privileges?): the trace pipe will say so */ }
      const { signal, release } = interruptSignal();
      try {
        io.err('streaming sockaccel trace lines (Ctrl-C to stop)...\n');
        await trace((l: TraceLine) => line(formatTraceLine(l)), { signal });
      } finally {
        release();
      }
      setExit(Exit.ok);
    });

  program.command('verify')
    .description('self-test an install: send data over a local connection and check lo did not carry it')
    .addOption(pinDirOption())
    .option('--json', 'print the result as JSON')
    .action(async (o: { pinDir: string; json?: boolean }) => {
      const { verify } = await accel();
      const r = await verify({ pinDir: o.pinDir });
      if (o.json) json(r);
      else line(renderVerify(r));
      setExit(r.accelerated ? Exit.ok : Exit.failure);
    });

  program.command('doctor')
    .description('check that this machine can run the accelerator, and say what to fix')
    .option('--json', 'print the checks as JSON')
    .action(async (o: { json?: boolean }) => {
      const { doctor } = await accel();
      const checks = doctor();
      if (o.json) json(checks);
      else line(renderDoctor(checks));
      setExit(checks.every((c) => c.ok) ? Exit.ok : Exit.failure);
    });

  registerBench(program, io, setExit);

  registerAgent(program, io, setExit);

  registerInspect(program, io, setExit);

  registerGen(program, io, setExit);
  registerFeatures(program, io, setExit);

  // Usage errors: one line, with the suggestion (if any) and where to find help on the same line.
  for (const cmd of [program, ...program.commands]) {
    const where = cmd === program ? `${NAME} --help` : `${NAME} ${cmd.name()} --help`;
    cmd.configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => {
        const one = s.trim().replace(/\s*\n\s*\(Did you mean (.*)\?\)/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ');
        write(`${one}; see '${where}'\n`);
      },
    });
  }
  return program;
}

/** Run the CLI on `argv` (process.argv layout); resolves with the exit code. */
export async function run(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = Exit.ok;
  const program = buildProgram(io, (c) => { code = c; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return Exit.ok;
      // `help [command]` exits 0; no command at all prints the help on stderr and is a usage error.
      if (e.code === 'commander.help') return e.exitCode === 0 ? Exit.ok : Exit.usage;
      return Exit.usage;
    }
    const debug = !!program.opts<{ debug?: boolean }>().debug || argv.includes('--debug');
    io.err(describeError(e, debug).join('\n') + '\n');
    return exitCodeFor(e);
  }
}
