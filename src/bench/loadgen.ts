// The bench's load generator (tools/loadgen.c): compiled on first use with the system C compiler
// into the user's cache directory ($XDG_CACHE_HOME or ~/.cache, then /tmp), keyed by the source's
// hash — never into the package directory, which may be read-only or inside node_modules.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../accel/layout.js';

export function loadgenSource(): string {
  return join(packageRoot(), 'tools', 'loadgen.c');
}

export class BenchError extends Error {
  override name = 'BenchError';
}

/** Versioned compiler commands on PATH (gcc-12, clang-14), highest version first. */
function versionedCompilers(path = process.env.PATH ?? ''): string[] {
  const found: { name: string; v: number }[] = [];
  for (const dir of path.split(':').filter(Boolean)) {
    let names: string[] = [];
    try { names = readdirSync(dir); } catch { continue; }
    for (const n of names) {
      const m = /^(gcc|clang)-(\d+)$/.exec(n);
      if (m) found.push({ name: n, v: Number(m[2]) });
    }
  }
  return [...new Set(found.sort((a, b) => b.v - a.v).map((f) => f.name))];
}

/** The first C compiler found: $CC, cc, gcc, clang, then versioned ones (gcc-12, clang-14). */
export function findCompiler(): string | undefined {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang', ...versionedCompilers()].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

export function compilerVersion(cc: string): string {
  try {
    return execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return cc;
  }
}

/** Where the compiled load generator is kept: $XDG_CACHE_HOME/sockaccel-ffi, ~/.cache/sockaccel-ffi, then /tmp. */
export function cacheDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const base = env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : undefined);
  return [...(base ? [join(base, 'sockaccel-ffi')] : []), join(tmpdir(), 'sockaccel-ffi-cache')];
}

function cacheDir(): string {
  for (const dir of cacheDirCandidates()) {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch { /* next */ }
  }
  throw new BenchError('no writable cache directory for the load generator');
}

/** Path of the compiled load generator, building it if needed. */
export function buildLoadgen(): { path: string; compiler: string } {
  let source: Buffer;
  const sourcePath = loadgenSource();
  try {
    source = readFileSync(sourcePath);
  } catch {
    throw new BenchError(`the load generator's source ${sourcePath} is missing: reinstall the package`);
  }
  const cc = findCompiler();
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = cacheDir();
  const path = join(dir, `loadgen-${hash}`);
  if (existsSync(path)) return { path, compiler: cc ? compilerVersion(cc) : 'cached build' };
  if (!cc) {
    throw new BenchError('bench needs a C compiler and the C library headers to build its load generator (tools/loadgen.c) and found no compiler ($CC, cc, gcc, clang, gcc-NN, clang-NN): install them, e.g. apt-get install gcc libc6-dev');
  }
  const tmp = `${path}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, sourcePath], { encoding: 'utf8' });
  if (r.status !== 0) {
    const err = (r.stderr || r.error?.message || '').trim();
    const hint = /No such file or directory|fatal error: .*\.h/.test(err) ? '\n(the C library headers are missing: apt-get install libc6-dev)' : '';
    throw new BenchError(`building tools/loadgen.c with ${cc} failed:\n${err}${hint}`);
  }
  renameSync(tmp, path);
  return { path, compiler: compilerVersion(cc) };
}

export interface LoadgenRun {
  mode: 'stream' | 'pingpong';
  transport: 'tcp' | 'unix';
  size: number;
  seconds: number;
  maxIterations?: number;
  /** cgroup.procs file to write the load generator's pid into before it execs (its sockets are then in that cgroup). */
  cgroupProcs?: string;
  /** TCP: listen on this 127.0.0.1 port (default: an ephemeral one). */
  port?: number;
  signal?: AbortSignal;
}

/** Run the load generator once; resolves with its JSON line. Killed by pid on abort or overtime. */
export function runLoadgen<T>(bin: string, run: LoadgenRun): Promise<T> {
  const args = [run.mode, run.transport, String(run.size), String(run.seconds)];
  if (run.mode === 'pingpong') args.push(String(run.maxIterations ?? 1_000_000));
  // sh writes its own pid (which exec keeps) to cgroup.procs, then becomes the load generator.
  const [cmd, argv] = run.cgroupProcs
    ? ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', run.cgroupProcs, bin, ...args]]
    : [bin, args];
  return new Promise<T>((resolve, reject) => {
    if (run.signal?.aborted) return reject(new BenchError('interrupted'));
    const env = run.port ? { ...process.env, LOADGEN_PORT: String(run.port) } : process.env;
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const kill = () => { if (child.pid && child.exitCode === null) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } } };
    const timer = setTimeout(kill, (run.seconds + 20) * 1000);
    const onAbort = () => kill();
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => { clearTimeout(timer); run.signal?.removeEventListener('abort', onAbort); reject(e); });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      if (run.signal?.aborted) return reject(new BenchError('interrupted'));
      if (code !== 0) return reject(new BenchError(`load generator (${args.join(' ')}) failed: ${sig ?? `exit ${code}`} ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch {
        reject(new BenchError(`load generator printed no result: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}
