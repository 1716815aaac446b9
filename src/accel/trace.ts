// `trace`: the accelerator's trace lines (bpf_printk "sockaccel: ...", written when installed with
// --trace), from the kernel's trace pipe.
import { readTracePipe, type TraceLine, type TraceOptions } from '../index.js';

export const TRACE_MARKER = 'sockaccel:';

/** Stream our trace lines to `onLine` until `opts.signal` aborts (needs root). */
export function trace(onLine: (line: TraceLine) => void, opts: Omit<TraceOptions, 'prefix'> = {}): Promise<void> {
  return readTracePipe(onLine, { ...opts, prefix: TRACE_MARKER });
}

export type { TraceLine, TraceOptions };
