// How long CO-RE resolution takes, in-process, for the seed tutorial's two objects (bpf_contrack and
// bpf_redirect, compiled from its C exactly as written against a vmlinux.h that bpftool generates
// here — a build aid, not a runtime dependency).
//   cold: a fresh process reads /sys/kernel/btf/vmlinux, indexes it and resolves every relocation
//         of both objects (median of N child processes; JIT warm-up included, as in `up`)
//   warm: same process, kernel BTF cached, relocation results not cached (median of N)
// Run: npm run build && node dist/tools/bench-core.js [rounds]   (needs clang and bpftool)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '../src/index.js';
import { clearKernelBtfCache, kernelBtf } from '../src/btf/lazy.js';
import { resolveCoreRelocation } from '../src/btf/core.js';
import { buildTutorial } from './tutorial-sources.js';

const rounds = Number(process.argv[2] ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Resolve every CO-RE relocation of the objects; returns ms and the number of relocations. */
function resolveAll(objects: BpfObject[]): { ms: number; count: number } {
  const t0 = performance.now();
  const target = kernelBtf();
  let count = 0;
  for (const obj of objects) {
    const fns = [...obj.programs.values(), ...obj.subprograms.values()];
    for (const f of fns) for (const r of f.coreRelos) { resolveCoreRelocation(obj.spec.btf!, target, r); count++; }
  }
  return { ms: performance.now() - t0, count };
}

if (process.argv[2] === '--child') {
  const objects = process.argv.slice(3).map((p) => BpfObject.open(p));
  const r = resolveAll(objects);
  process.stdout.write(JSON.stringify(r));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bench-core-'));
  try {
    const objs = buildTutorial(dir);
    const self = fileURLToPath(import.meta.url);
    const cold: number[] = [];
    let count = 0;
    for (let i = 0; i < rounds; i++) {
      const r = JSON.parse(execFileSync(process.execPath, [self, '--child', ...objs], { encoding: 'utf8' }));
      cold.push(r.ms);
      count = r.count;
    }
    const objects = objs.map((p) => BpfObject.open(p));
    clearKernelBtfCache();
    resolveAll(objects);
    const warm: number[] = [];
    for (let i = 0; i < rounds * 10; i++) warm.push(resolveAll(objects).ms);
    console.log(`tutorial objects: ${objs.map((p) => p.split('/').pop()).join(', ')}; ${count} CO-RE relocations`);
    console.log(`cold (fresh process, reads + indexes vmlinux BTF): median ${median(cold).toFixed(2)} ms, min ${Math.min(...cold).toFixed(2)} ms over ${rounds} processes`);
    console.log(`warm (kernel BTF cached in-process):               median ${median(warm).toFixed(3)} ms over ${warm.length} runs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
