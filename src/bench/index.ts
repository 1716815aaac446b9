// The benchmark: plain TCP vs sockaccel vs AF_UNIX (see run.ts), and its renderings.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown, renderSvg } from './render.js';
import type { BenchResult } from './types.js';

export { runBench, machineInfo, DEFAULT_SIZES, DEFAULT_DURATION, DEFAULT_ROUNDS, DEFAULT_LATENCY_SIZE } from './run.js';
export { renderText, renderMarkdown, renderSvg, formatSize, niceAxis, machineLine } from './render.js';
export { buildLoadgen, BenchError } from './loadgen.js';
export { median, spread } from './stats.js';
export * from './types.js';

/** Write bench.json, bench.svg and bench.md into `dir`; returns their paths. */
export function writeBenchOutputs(dir: string, r: BenchResult): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['bench.json', JSON.stringify(r, null, 2) + '\n'],
    ['bench.svg', renderSvg(r)],
    ['bench.md', renderMarkdown(r)],
  ];
  return files.map(([name, body]) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  });
}
