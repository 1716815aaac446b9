// Running `sockaccel-ffi agent` in tests: started through a Scope (killed in cleanup; the pin dir's
// cleanup takes down whatever it left), its JSON log lines read from stdout, its endpoints fetched
// with curl, its /metrics parsed into samples.
import { spawnSync } from 'node:child_process';
import { CLI } from './paths.js';
import { freePort, sleep, waitFor, type Proc } from './proc.js';
import type { Scope } from './scope.js';
import { need } from './tools.js';

export interface AgentProc {
  proc: Proc;
  port: number;
  /** Log records (parsed JSON lines) so far. */
  logs(): { msg: string; level: string; [k: string]: unknown }[];
  /** Wait until at least `n` log records match (msg tested against `re`); returns the n-th. */
  waitLog(re: RegExp, timeoutMs?: number, n?: number): Promise<Record<string, unknown>>;
  get(path: string): { code: number; body: string };
  metrics(): Map<string, number>;
  text(): string;
}

/** Start the agent with `args` (add --cgroup and --pin-dir!) and wait for its "running" line. */
export async function startAgent(scope: Scope, args: string[], opts: { wrap?: string[]; waitRunning?: boolean; timeoutMs?: number } = {}): Promise<AgentProc> {
  const port = freePort();
  const argv = [CLI, 'agent', '--listen', `127.0.0.1:${port}`, '--log-format', 'json', '--check-interval', '0.5', ...args];
  const [cmd, ...rest] = opts.wrap ? [...opts.wrap, process.execPath, ...argv] : [process.execPath, ...argv];
  const proc = scope.start(cmd!, rest, { timeoutMs: opts.timeoutMs ?? 180_000 });
  const logs = () => proc.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: string });
  const curl = need('curl');
  const a: AgentProc = {
    proc,
    port,
    logs,
    async waitLog(re, timeoutMs = 20_000, n = 1) {
      try {
        const hit = await waitFor(`agent log /${re.source}/ (x${n})`, () => {
          const found = logs().filter((l) => re.test(l.msg));
          if (found.length >= n) return found[n - 1];
          if (proc.exited) throw new Error(`the agent exited before logging /${re.source}/`);
          return undefined;
        }, timeoutMs, 50);
        return hit as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${(e as Error).message}\nagent stdout: ${proc.stdout.split('\n').slice(-15).join('\n')}\nagent stderr: ${proc.stderr}`);
      }
    },
    get(path) {
      const r = spawnSync(curl, ['-s', '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8', timeout: 15_000 });
      const at = r.stdout.lastIndexOf('\n');
      return { code: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
    },
    text() {
      const r = a.get('/metrics');
      if (r.code !== 200) throw new Error(`/metrics answered ${r.code}: ${r.body}`);
      return r.body;
    },
    metrics() {
      return parseSamples(a.text());
    },
  };
  if (opts.waitRunning ?? true) await a.waitLog(/^running$/, 60_000);
  return a;
}

/** metric{labels} → value, from a Prometheus text page. */
export function parseSamples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

/** The value of the one sample of `name` whose labels include `labels` (e.g. 'policy="learn"'). */
export function sampleWith(samples: Map<string, number>, name: string, ...labels: string[]): number | undefined {
  for (const [k, v] of samples) if (k.startsWith(name + '{') && labels.every((l) => k.includes(l))) return v;
  return samples.get(name);
}

/** The labels of the one sample of `name` (info metrics). */
export function labelsOf(text: string, name: string): Record<string, string> {
  const line = text.split('\n').find((l) => l.startsWith(name + '{'));
  if (!line) return {};
  return Object.fromEntries([...line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** `promtool check metrics` on a page: [exit code, what it said]. */
export function promtoolCheck(text: string): [number | null, string] {
  const r = spawnSync(need('promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return [r.status, (r.stdout + r.stderr).trim()];
}

/** Wait for the agent process to exit, bounded. */
export async function agentExit(a: AgentProc, timeoutMs: number): Promise<{ code: number | null; signal: string | null; atMs: number }> {
  const exit = await Promise.race([a.proc.done, sleep(timeoutMs).then(() => undefined)]);
  if (!exit) throw new Error(`the agent did not exit within ${timeoutMs} ms\nstdout: ${a.proc.stdout}`);
  return { code: exit.code, signal: exit.signal, atMs: Date.now() };
}
