// What blocks the event loop: the kernel BTF read and index, each program's verification, and the
// longest single block of load() vs loadAsync() (monitorEventLoopDelay's maximum meanwhile).
// Run: npm run build && sudo node dist/tools/bench-async.js [rounds]   (docs/performance.md)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '../src/index.js';
import { clearKernelBtfCache, kernelBtfAsync, LazyBtf, VMLINUX_BTF } from '../src/btf/lazy.js';
import { ALL_OBSERVERS, shippedObject } from '../src/accel/layout.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const rounds = Number(process.argv[2] ?? 7);

/** "median (min–max)" of `xs`, in ms. */
function stat(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]!.toFixed(1)} (${s[0]!.toFixed(1)}–${s.at(-1)!.toFixed(1)})`;
}

/** Run `work` with the event-loop delay histogram on: its wall time and the longest block, ms. */
async function blocking(work: () => unknown): Promise<{ wall: number; block: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  await work();
  const wall = performance.now() - t0;
  h.disable();
  return { wall, block: h.max / 1e6 };
}

const read: number[] = [];
const index: number[] = [];
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now();
  const buf = readFileSync(VMLINUX_BTF);
  const t1 = performance.now();
  LazyBtf.parse(buf, VMLINUX_BTF, 'BTF');
  index.push(performance.now() - t1);
  read.push(t1 - t0);
}
console.log(`vmlinux BTF: read ${stat(read)} ms, index ${stat(index)} ms (synchronous)`);
const asyncBtf: { wall: number; block: number }[] = [];
for (let i = 0; i < rounds; i++) {
  clearKernelBtfCache();
  asyncBtf.push(await blocking(() => kernelBtfAsync()));
}
console.log(`kernelBtfAsync: wall ${stat(asyncBtf.map((r) => r.wall))} ms, longest block ${stat(asyncBtf.map((r) => r.block))} ms`);

const objects: [string, () => BpfObject][] = [
  ['sockaccel.bpf.o (sock_ops + sk_msg)', () => {
    const o = BpfObject.open(shippedObject());
    for (const n of ALL_OBSERVERS) o.programs.delete(n);
    return o;
  }],
  ['calls.bpf.o', () => BpfObject.open(join(REPO, 'bpf/fixtures/calls.bpf.o'))],
  ['verifier_heavy.bpf.o', () => BpfObject.open(join(REPO, 'bpf/fixtures/verifier_heavy.bpf.o'))],
];
for (const [name, open] of objects) {
  const verifier = new Map<string, number[]>();
  const sync: number[] = [];
  const async_: { wall: number; block: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const o = open();
    const t0 = performance.now();
    o.load({
      explain: (line) => {
        const m = /^the verifier accepted (\w+): verification time (\d+) usec/.exec(line);
        if (m) verifier.set(m[1]!, [...(verifier.get(m[1]!) ?? []), Number(m[2]) / 1000]);
      },
    }).close();
    sync.push(performance.now() - t0);
    let loaded: { close(): void } | undefined;
    async_.push(await blocking(async () => { loaded = await open().loadAsync(); }));
    loaded?.close();
  }
  console.log(`${name}: load() ${stat(sync)} ms (all of it blocks); loadAsync() wall ${stat(async_.map((r) => r.wall))} ms, longest block ${stat(async_.map((r) => r.block))} ms`);
  for (const [p, v] of verifier) console.log(`  ${p}: verifier ${stat(v)} ms`);
}
