// Starting the Node and Python peers the way tests need them, and reading their RESULT lines.
import { NODE_PEER } from './paths.js';
import { pyPeerArgs } from './pypeer.js';
import type { Exit, Proc } from './proc.js';
import type { Scope } from './scope.js';

/** The JSON of the last `RESULT {...}` line of a peer's stdout. */
export function parseResult<T = any>(stdout: string, who = 'peer'): T {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${who} printed no RESULT line; stdout: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as T;
}

export interface Where {
  cgroup?: string;
  netns?: string;
}

export function argList(o: Record<string, string | number | boolean | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false) continue;
    out.push(`--${k}`);
    if (v !== true) out.push(String(v));
  }
  return out;
}

/** Start the Node peer server and wait until it listens. */
export async function startNodeServer(scope: Scope, where: Where, o: { port: number; host?: string; conns: number; mode?: 'halfclose' | 'echo'; timeoutMs?: number }): Promise<Proc> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const p = scope.start(process.execPath, [NODE_PEER, 'server', ...argList({ port: o.port, host: o.host, conns: o.conns, mode: o.mode, 'timeout-ms': timeoutMs })], { ...where, timeoutMs: timeoutMs + 5000 });
  await p.waitLine(/^LISTENING /, 10_000);
  return p;
}

export interface ClientOptions {
  port: number;
  host?: string;
  conns: number;
  sizes: number[];
  replySizes?: number[];
  seed: string;
  mode?: 'halfclose' | 'echo';
  /** Connection i binds this local port + i. */
  localPort?: number;
  sequential?: boolean;
  loFile?: string;
  /** Sequential mode: after connecting everything, print CONNECTED and wait for a line on stdin.
   * Concurrent mode: print READY and wait for a line on stdin before connecting at all. */
  waitStdin?: boolean;
  /** Sequential mode: pause between connects (ms). */
  connectGapMs?: number;
  timeoutMs?: number;
}

export function startNodeClient(scope: Scope, where: Where, o: ClientOptions): Proc {
  const timeoutMs = o.timeoutMs ?? 60_000;
  return scope.start(process.execPath, [NODE_PEER, 'client', ...argList({
    port: o.port, host: o.host, conns: o.conns, sizes: o.sizes.join(','), 'reply-sizes': o.replySizes?.join(','),
    seed: o.seed, mode: o.mode, 'local-port': o.localPort, sequential: o.sequential, 'lo-file': o.loFile, 'wait-stdin': o.waitStdin, 'connect-gap-ms': o.connectGapMs, 'timeout-ms': timeoutMs,
  })], { ...where, timeoutMs: timeoutMs + 5000 });
}

export async function startPyPeer(scope: Scope, where: Where, timeoutMs: number, mode: string, ...args: (string | number)[]): Promise<Proc> {
  const [py, argv] = pyPeerArgs(mode, ...args);
  return scope.start(py, argv, { ...where, timeoutMs });
}

/** Wait for a peer and return its exit plus parsed RESULT (undefined result when it printed none). */
export async function finished<T = any>(p: Proc, who: string): Promise<{ exit: Exit; result: T | undefined }> {
  const exit = await p.done;
  let result: T | undefined;
  try { result = parseResult<T>(exit.stdout, who); } catch { result = undefined; }
  return { exit, result };
}
