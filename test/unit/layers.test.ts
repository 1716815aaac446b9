// The layers hold: the pure layers (uapi, elf, btf, asm, object) never reach the syscall layer or the
// native binding, there are no import cycles, the accelerator uses only the loader's public API, and
// importing the package reads no file and loads no native code. Checked two ways: on the import
// graph of the sources, and by running the built modules with koffi made unloadable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT, fixturePath } from './fixtures.js';

const SRC = join(REPO_ROOT, 'src');
const DIST = join(REPO_ROOT, 'dist', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** Runtime imports of each source file (type-only imports are erased, so they do not count). */
function importGraph(withDynamic = true): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    const re = /^\s*(import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[3] && !withDynamic) continue;
      const spec = m[2] ?? m[3]!;
      // `import { type A, type B } from` is type-only too.
      if (m[0].includes('{') && /^\s*(import|export)\s+\{\s*(type\s+\w+(\s+as\s+\w+)?\s*,?\s*)+\}/.test(m[0])) continue;
      deps.push(spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec);
    }
    graph.set(relative(SRC, file), deps);
  }
  return graph;
}

const graph = importGraph();
const layerOf = (f: string) => (f.includes('/') ? f.split('/')[0]! : f);

function reach(from: string, g = graph): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const f = todo.pop()!;
    for (const d of g.get(f) ?? []) if (!seen.has(d)) { seen.add(d); if (g.has(d)) todo.push(d); }
  }
  return seen;
}

test('the pure layers (uapi, elf, btf, asm, object) never reach sys/ or koffi', () => {
  const pure = new Set(['uapi', 'elf', 'btf', 'asm', 'object']);
  const bad: string[] = [];
  for (const f of graph.keys()) {
    if (!pure.has(layerOf(f))) continue;
    for (const d of reach(f)) if (d.startsWith('sys/') || d === 'koffi' || d.startsWith('load/')) bad.push(`${f} → ${d}`);
  }
  assert.equal(bad, []);
  // And uapi/ is data only: nothing outside itself.
  for (const [f, deps] of graph) if (layerOf(f) === 'uapi') for (const d of deps) assert.ok(d.startsWith('uapi/'), `${f} imports ${d}`);
});

test('no import cycles', () => {
  // Tarjan's strongly connected components over the runtime import graph.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) cycles.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  assert.equal(cycles, []);
});

test('the CLI\'s start (what --help runs) never reaches the loader: verbs import it when they run', () => {
  const statics = reach('cli/main.ts', importGraph(false));
  const heavy = [...statics].filter((d) => d === 'index.ts' || d === 'koffi' || /^(load|maps|link|events|gen|features|btf|object)\//.test(d) || d === 'sys/libc.ts');
  assert.equal(heavy, [], 'a static import from the CLI wiring pulls in the loader: make it a dynamic import() in the verb');
});

test('the accelerator uses only the public API of the loader', () => {
  for (const [f, deps] of graph) {
    if (layerOf(f) !== 'accel') continue;
    for (const d of deps) assert.ok(d === 'index.ts' || d.startsWith('accel/') || d.startsWith('node:'), `${f} imports ${d}: use what 'sockaccel-ffi' exports`);
  }
});

test('the agent uses only the public APIs (sockaccel-ffi and sockaccel-ffi/accel)', () => {
  for (const [f, deps] of graph) {
    if (layerOf(f) !== 'agent') continue;
    for (const d of deps) assert.ok(d === 'index.ts' || d === 'accel/index.ts' || d.startsWith('agent/') || d.startsWith('node:'), `${f} imports ${d}: use what 'sockaccel-ffi' or 'sockaccel-ffi/accel' export`);
  }
});

test('with koffi unloadable: the package imports, objects parse, and no file is read at import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockaccel-layers-'));
  try {
    // A CommonJS preload: requiring koffi (as sys/libc.ts does on the first syscall) throws.
    writeFileSync(join(dir, 'block.cjs'), `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (request === 'koffi' || /koffi\\.node$/.test(request)) throw new Error('koffi is blocked in this test');
        return load.call(this, request, ...rest);
      };`);
    writeFileSync(join(dir, 'child.mjs'), `
      import fs from 'node:fs';
      const reads = [];
      for (const name of ['readFileSync', 'openSync', 'statSync', 'existsSync', 'readdirSync', 'readlinkSync']) {
        const orig = fs[name];
        fs[name] = (...a) => { reads.push(name + ' ' + a[0]); return orig(...a); };
      }
      const lib = await import(${JSON.stringify(join(DIST, 'index.js'))});
      await import(${JSON.stringify(join(DIST, 'accel', 'index.js'))});
      // Node's CommonJS loader reads the modules it loads (elfy) through fs too: those are not ours.
      const atImport = reads.filter((r) => !(r.includes('/node_modules/') && ['.js', '.cjs', 'package.json'].some((e) => r.endsWith(e))));
      const obj = lib.BpfObject.open(${JSON.stringify(fixturePath('calls'))});
      let syscall = 'no error';
      try { obj.load(); } catch (e) { syscall = String(e.message); }
      console.log(JSON.stringify({ atImport, programs: [...obj.programs.keys()], syscall }));`);
    const r = spawnSync(process.execPath, ['--require', join(dir, 'block.cjs'), join(dir, 'child.mjs')], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { atImport: string[]; programs: string[]; syscall: string };
    assert.equal(out.atImport, [], 'files read while importing the package');
    assert.ok(out.programs.length > 0, 'the object parsed without the native binding');
    assert.match(out.syscall, /koffi is blocked/, 'the binding is loaded by the first syscall, not before');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
