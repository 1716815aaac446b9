// Reading bpf_printk output: the kernel's trace pipe (a tracefs file). Reading it blocks until the
// kernel writes something, so we open it O_NONBLOCK and poll: aborting then ends the stream at once,
// with no read stuck in a thread. Reading consumes the lines: only one reader sees each one.
import { closeSync, constants, openSync, read } from 'node:fs';
import { BpfError, UsageError } from '../errors.js';
import { findInTracefs, tracefsPath } from '../sys/tracefs.js';
import type { Mount } from '../sys/bpffs.js';

export interface TraceLine {
  /** The whole line, as the kernel wrote it. */
  raw: string;
  /** What the program printed: the text after "bpf_trace_printk: " (the whole line if absent). */
  message: string;
  /** Task name and pid, CPU and timestamp (seconds since boot), when the line has the usual layout. */
  task?: string;
  pid?: number;
  cpu?: number;
  timestamp?: number;
}

export interface TraceOptions {
  /** Ends the stream; the promise then resolves. */
  signal?: AbortSignal;
  /** How often to look for new lines when there are none (ms); default 200. */
  pollMs?: number;
  /** Mount tracefs at /sys/kernel/tracing when no tracefs is mounted (default true). */
  mount?: boolean;
  /** Only lines whose message starts with this (e.g. "sockaccel:"). */
  prefix?: string;
}

/** The trace_pipe to read, given the mounts; undefined when no tracefs is reachable. */
export function findTracePipe(mounts?: Mount[], exists?: (p: string) => boolean): string | undefined {
  return findInTracefs('trace_pipe', mounts, exists);
}

/** The trace pipe, mounting tracefs at /sys/kernel/tracing first if none is mounted (once per process). */
export function tracePipe(mount = true): string {
  return tracefsPath('trace_pipe', 'bpf_printk output', mount);
}

// "  node-1234    [003] d..31  1234.567890: bpf_trace_printk: sockaccel: ..."
const LINE = /^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:\S{4,5}\s+)?(\d+\.\d+):/;

const PRINTK = 'bpf_trace_printk: ';

/** Parse one trace_pipe line; undefined when `prefix` is given and the message does not start with it. */
export function parseTraceLine(raw: string, prefix = ''): TraceLine | undefined {
  const p = raw.indexOf(PRINTK);
  const message = (p >= 0 ? raw.slice(p + PRINTK.length) : raw).trimEnd();
  const at = prefix ? message.indexOf(prefix) : 0;
  if (at < 0) return undefined;
  const line: TraceLine = { raw, message: message.slice(at) };
  const m = LINE.exec(raw);
  if (m) {
    line.task = m[1].trim();
    line.pid = Number(m[2]);
    line.cpu = Number(m[3]);
    line.timestamp = Number(m[4]);
  }
  return line;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function readChunk(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Stream trace lines (bpf_printk output) to `onLine` until `signal` aborts. Resolves then (or throws
 * when the pipe cannot be opened: it needs root).
 */
export async function readTracePipe(onLine: (line: TraceLine) => void, opts: TraceOptions = {}): Promise<void> {
  const pipe = tracePipe(opts.mount ?? true);
  let fd: number;
  try {
    fd = openSync(pipe, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? 'EIO';
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UsageError('NEEDS_PRIVILEGES', `cannot read ${pipe}: ${code}`, { hint: 'run as root: the trace pipe is readable by root only', cause: e });
    }
    throw new BpfError('open', Math.abs(err.errno ?? 5), code, `cannot read ${pipe}: ${code}`, { cause: e });
  }
  const buf = Buffer.alloc(64 * 1024);
  let pending = '';
  try {
    while (!opts.signal?.aborted) {
      let n: number;
      try {
        n = await readChunk(fd, buf);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') {
          await sleep(opts.pollMs ?? 200, opts.signal);
          continue;
        }
        throw e;
      }
      if (n === 0) {
        await sleep(opts.pollMs ?? 200, opts.signal);
        continue;
      }
      pending += buf.toString('utf8', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const raw of lines) {
        const line = parseTraceLine(raw, opts.prefix);
        if (line) onLine(line);
      }
    }
  } finally {
    closeSync(fd);
  }
}
