// How long BpfObject.open() and load() take, in-process, for the committed objects.
// Run: npm run build && node dist/tools/bench-load.js [rounds]   (root: load talks to the kernel)
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const rounds = Number(process.argv[2] ?? 20);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const PIN_DIR = `/sys/fs/bpf/bench-load-${process.pid}`;
process.on('exit', () => rmSync(PIN_DIR, { recursive: true, force: true }));

const objects = [
  join(REPO, 'bpf', 'sockaccel.bpf.o'),
  ...readdirSync(join(REPO, 'bpf', 'fixtures')).filter((f) => f.endsWith('.bpf.o')).map((f) => join(REPO, 'bpf', 'fixtures', f)),
];

console.log(`median of ${rounds} rounds (first round included: it pays for JIT warm-up)`);
console.log('object'.padEnd(24), 'open ms'.padStart(9), 'load ms'.padStart(9), 'first open+load ms'.padStart(20));
for (const path of objects) {
  const opens: number[] = [];
  const loads: number[] = [];
  let first = 0;
  let failed = '';
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const obj = BpfObject.open(path);
    const t1 = performance.now();
    try {
      // A private pin dir: maps pinned by name (LIBBPF_PIN_BY_NAME) must not land in /sys/fs/bpf.
      obj.load({ pinMaps: PIN_DIR }).close();
    } catch (e) {
      failed = (e as Error).message.split('\n')[0];
      break;
    }
    const t2 = performance.now();
    if (i === 0) first = t2 - t0;
    opens.push(t1 - t0);
    loads.push(t2 - t1);
  }
  const name = path.slice(REPO.length);
  if (failed) console.log(name.padEnd(24), `not loadable (expected for refusal fixtures): ${failed.slice(0, 80)}`);
  else console.log(name.padEnd(24), median(opens).toFixed(3).padStart(9), median(loads).toFixed(3).padStart(9), first.toFixed(3).padStart(20));
}
