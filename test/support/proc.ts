// Process helpers: start a peer (optionally inside a cgroup and/or a network namespace) with a hard
// time limit, wait for its output or its listening port, and kill it by pid. Every process started
// here is remembered so that a test's cleanup can kill whatever is still alive.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { need } from './tools.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when we killed it because its time limit was reached. */
  timedOut: boolean;
}

export interface StartOptions {
  /** Move the process into this cgroup v2 directory before it execs (its sockets belong there). */
  cgroup?: string;
  /** Run it inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Hard limit: SIGKILL after this long. Required: nothing we start may run unbounded. */
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin (then stdin stays open unless closeStdin). */
  stdin?: string;
  closeStdin?: boolean;
}

export interface Proc {
  pid: number;
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves (never rejects) when the process has exited. */
  done: Promise<Exit>;
  exited: boolean;
  /** Resolves with the first stdout line matching `re`; rejects on exit or after timeoutMs. */
  waitLine(re: RegExp, timeoutMs: number): Promise<string>;
  write(s: string): void;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<Proc>();

/** The argv that puts `cmd args` into the cgroup and/or netns. The cgroup is joined first: `ip netns
 * exec` remounts /sys in a private mount namespace, where the cgroup2 mount may not be visible. Both
 * `sh -c … exec` and `ip netns exec` exec in place, so the pid we get is the peer's own pid. */
export function wrapArgv(cmd: string, args: string[], opts: { cgroup?: string; netns?: string }): string[] {
  let argv = [cmd, ...args];
  if (opts.netns) argv = ['ip', 'netns', 'exec', opts.netns, ...argv];
  if (opts.cgroup) argv = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.cgroup, ...argv];
  return argv;
}

export function start(cmd: string, args: string[], opts: StartOptions): Proc {
  // A missing tool throws here, naming its package: that test fails, before anything is started.
  if (opts.netns) need('ip');
  const argv = wrapArgv(need(cmd), args, opts);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  // Listen for 'error' at once: a spawn failure emits it on the next tick, and without a listener
  // it would end the whole test run.
  let spawnError: Error | undefined;
  child.on('error', (e) => { spawnError ??= e; });
  if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}: ${spawnError?.message ?? 'no pid'}`);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const lineWaiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    stdout += d;
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      for (const w of [...lineWaiters]) {
        if (w.re.test(line)) {
          lineWaiters.splice(lineWaiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (d: string) => { stderr += d; });
  child.stdin!.on('error', () => { /* the peer may exit before reading stdin */ });
  const timer = setTimeout(() => { timedOut = true; killPid(child.pid!); }, opts.timeoutMs);
  const p: Proc = {
    pid: child.pid,
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited: false,
    done: new Promise<Exit>((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        p.exited = true;
        live.delete(p);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
      child.on('error', (e) => { stderr += String(e); });
    }),
    waitLine(re, timeoutMs) {
      timeoutMs *= TIME_SCALE;
      const already = stdout.split('\n').find((l) => re.test(l));
      if (already !== undefined) return Promise.resolve(already);
      return new Promise<string>((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(t); resolve(l); } };
        const t = setTimeout(() => {
          lineWaiters.splice(lineWaiters.indexOf(w), 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} from ${argv.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        lineWaiters.push(w);
        p.done.then((e) => {
          clearTimeout(t);
          if (lineWaiters.includes(w)) reject(new Error(`${argv.join(' ')} exited (${e.code ?? e.signal}) before printing ${re}\nstdout: ${stdout}\nstderr: ${stderr}`));
        });
      });
    },
    write(s) { child.stdin!.write(s); },
    kill(signal = 'SIGKILL') { if (!p.exited) killPid(p.pid, signal); },
  };
  live.add(p);
  if (opts.stdin !== undefined) child.stdin!.write(opts.stdin);
  if (opts.closeStdin) child.stdin!.end();
  return p;
}

/** Start and wait for the exit. */
export function run(cmd: string, args: string[], opts: StartOptions): Promise<Exit> {
  return start(cmd, args, { closeStdin: true, ...opts }).done;
}

/** Synchronous, for quick commands (ip, bpftool, cat); throws with stderr on failure. */
export function sh(cmd: string, args: string[], timeoutMs = 10_000): string {
  const r = spawnSync(need(cmd), args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

export function killPid(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Kill every process started through `start` that is still alive (by pid) and wait for them. */
export async function killAll(timeoutMs = 3000): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.kill();
  await Promise.race([Promise.all(procs.map((p) => p.done)), sleep(timeoutMs)]);
}

/** Waits for a peer to start are multiplied by this: $SAE2E_TIME_SCALE, or 4 in the qemu VMs (TCG
 * runs node and python start-up 5-10x slower than the host); never the test's own assertions. */
export const TIME_SCALE = Number(process.env.SAE2E_TIME_SCALE) > 0 ? Number(process.env.SAE2E_TIME_SCALE) : process.env.SOCKACCEL_VM ? 4 : 1;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then throw). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs: number, everyMs = 25): Promise<T> {
  timeoutMs *= TIME_SCALE;
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const v = await check();
    if (v) return v;
    if (Date.now() >= deadline || i > 100_000) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Ports in LISTEN state in the network namespace of `pid` (default: ours), from /proc/PID/net/tcp{,6}. */
export function listeningPorts(pid: number | 'self' = 'self'): Set<number> {
  const ports = new Set<number>();
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue;
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Wait until `port` is listening in the network namespace of `proc` (without connecting to it:
 * a probe connection would be accepted by the peer and take up its one test, or a map slot). */
export async function waitListening(proc: Proc, port: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(`port ${port} to listen (pid ${proc.pid})`, () => {
    if (proc.exited) throw new Error(`peer exited before listening on ${port}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`);
    return listeningPorts(proc.pid).has(port);
  }, timeoutMs);
}

/** Ports in use (any state) in our network namespace. */
function usedPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try { text = readFileSync(`/proc/self/net/${f}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 3) continue;
      ports.add(parseInt(cols[1]!.split(':')[1]!, 16));
      ports.add(parseInt(cols[2]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

const handedOut = new Set<number>();
/** A port in 61000–64999 (above the ephemeral range 32768–60999, so no client can hold it) not in
 * use by anything (listening or connected) and not handed out before in this process. */
export function freePort(): number {
  const used = usedPorts();
  for (let i = 0; i < 1000; i++) {
    const p = 61000 + Math.floor(Math.random() * 4000);
    if (!used.has(p) && !handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
  throw new Error('no free port found in 61000-64999');
}
