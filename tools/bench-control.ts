// Control-plane benchmark: how long `up` and `down` take, as CLI processes and in-process.
//   process: wall time of `sockaccel-ffi --help`, `up --cgroup C --pin-dir P`, `down --force` and of
//            `import('sockaccel-ffi')` (median of N, interleaved), next to a bare `node -e 0` (Node's
//            own start-up, which every CLI call pays); the import is also timed inside its process;
//   in-process: BpfObject.open, load, attach (sk_msg to the map + sock_ops to the cgroup), and the
//            library's up() and down() (median of N; the first round pays JIT warm-up and is
//            reported separately).
// Uses its own temporary cgroup and pin directory, removed at the end (also on failure).
// Each `up` starts SETTLE ms (default 1000) after the previous `down`: right after a down the kernel
// is still freeing its objects, and attaching the splice observer to its syscall tracepoint waits
// for an RCU grace period (its LINK_CREATE took 18–34 ms back-to-back, 1 ms settled). A user's `up`
// meets a settled machine; `bench-control.js 7 0` measures back-to-back.
// Run: npm run build && node dist/tools/bench-control.js [rounds] [settle-ms]   (root)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, cgroupV2Root } from '../src/index.js';
import { down, up } from '../src/accel/index.js';
import { ALL_OBSERVERS, shippedObject, OBJ } from '../src/accel/layout.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO, 'dist', 'pkg', 'cli.js');
const rounds = Math.min(Math.max(Number(process.argv[2] ?? 7), 1), 100);
const settleMs = Math.min(Math.max(Number(process.argv[3] ?? 1000), 0), 10_000);
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, settleMs));
const LIB = join(REPO, 'dist', 'pkg', 'index.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => x.toFixed(1).padStart(8);

const tag = `sockaccel-benchctl-${process.pid}`;
const cgroup = join(cgroupV2Root(), tag);
const pinDir = join('/sys/fs/bpf', tag);

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

mkdirSync(cgroup);
try {
  const run = (...args: string[]) => execFileSync(process.execPath, args, { stdio: 'ignore' });
  const importScript = `const t = performance.now(); await import(${JSON.stringify(LIB)}); console.log(performance.now() - t);`;
  const nodeBare: number[] = [];
  const cliHelp: number[] = [];
  const cliUp: number[] = [];
  const cliDown: number[] = [];
  const importProc: number[] = [];
  const importIn: number[] = [];
  run(CLI, '--help'); // warm the page cache
  for (let i = 0; i < rounds; i++) {
    nodeBare.push(time(() => run('-e', '0')));
    cliHelp.push(time(() => run(CLI, '--help')));
    await settle();
    cliUp.push(time(() => run(CLI, 'up', '--cgroup', cgroup, '--pin-dir', pinDir)));
    cliDown.push(time(() => run(CLI, 'down', '--force', '--pin-dir', pinDir)));
    importProc.push(time(() => {
      importIn.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', importScript], { encoding: 'utf8' }).trim()));
    }));
  }

  const open: number[] = [];
  const load: number[] = [];
  const attach: number[] = [];
  const libUp: number[] = [];
  const libDown: number[] = [];
  const upKernel: number[] = [];
  const first: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    let obj!: BpfObject;
    const o = time(() => { obj = BpfObject.open(shippedObject()); for (const n of ALL_OBSERVERS) obj.programs.delete(n); });
    let loaded!: ReturnType<BpfObject['load']>;
    const l = time(() => { loaded = obj.load(); });
    let links: { detach(): void; close(): void }[] = [];
    const a = time(() => {
      const msg = loaded.programs.get(OBJ.msgProgram)!;
      const sockops = loaded.programs.get(OBJ.sockopsProgram)!;
      links = [msg.attachToMap(loaded.maps.get(OBJ.sockHash)!), sockops.attachCgroup(cgroup)];
    });
    for (const k of links.reverse()) { k.detach(); k.close(); }
    loaded.close();
    // System CPU of this process (every thread) during up(): the time the kernel spends on it —
    // verifying programs, creating maps, attaching — which no change in JavaScript can take away.
    await settle();
    const cpu0 = process.cpuUsage();
    const u = await timeAsync(() => up({ cgroup, pinDir }));
    const cpu = process.cpuUsage(cpu0);
    if (i === 0) first.upKernel = cpu.system / 1000;
    else upKernel.push(cpu.system / 1000);
    const d = await timeAsync(() => down({ pinDir, force: true, timeoutMs: 0 }));
    if (i === 0) Object.assign(first, { open: o, load: l, attach: a, up: u, down: d });
    else { open.push(o); load.push(l); attach.push(a); libUp.push(u); libDown.push(d); }
  }
  const m = (xs: number[]) => (xs.length ? median(xs) : NaN);
  console.log(`control plane, median of ${rounds} runs (ms); each up ${settleMs} ms after the previous down`);
  console.log(`  node -e 0 (bare Node start-up)   ${ms(median(nodeBare))}`);
  console.log(`  sockaccel-ffi --help (process)   ${ms(median(cliHelp))}   (${(median(cliHelp) - median(nodeBare)).toFixed(1)} over bare node)`);
  console.log(`  import('sockaccel-ffi') (process)${ms(median(importProc))}   (${(median(importProc) - median(nodeBare)).toFixed(1)} over bare node; ${median(importIn).toFixed(1)} inside the process)`);
  console.log(`  sockaccel-ffi up   (process)     ${ms(median(cliUp))}   (${(median(cliUp) - median(nodeBare)).toFixed(1)} over bare node)`);
  console.log(`  sockaccel-ffi down (process)     ${ms(median(cliDown))}   (${(median(cliDown) - median(nodeBare)).toFixed(1)} over bare node)`);
  console.log(`in-process, median of ${Math.max(rounds - 1, 0)} warm runs (first run in brackets)`);
  for (const [name, xs, f] of [['open', open, first.open], ['load', load, first.load], ['attach (sk_msg + sock_ops)', attach, first.attach],
    ['up()', libUp, first.up], ['  of which in the kernel (system CPU)', upKernel, first.upKernel], ['down({force})', libDown, first.down]] as const) {
    console.log(`  ${name.padEnd(32)} ${ms(m(xs))}   [${f!.toFixed(1)}]`);
  }
} finally {
  try { await down({ pinDir, force: true, timeoutMs: 0 }); } catch { /* nothing there */ }
  try { rmdirSync(cgroup); } catch (e) { console.error(`could not remove ${cgroup}: ${(e as Error).message}`); }
}
