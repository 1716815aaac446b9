// A generated module end to end: `sockaccel-ffi gen` on typed_maps.bpf.o, compiled by tsc, imported,
// and used as a user would: typed setGlobal, load, the program run, typed maps read and written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, fixture } from './helpers.js';

const CLI = resolve(REPO, 'dist', 'src', 'cli', 'main.js');
const TSC = resolve(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const LIB = resolve(REPO, 'dist', 'src', 'index.js');

test('gen → tsc → import: typed globals, maps and programs against the kernel', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-kernel-'));
  try {
    const out = join(dir, 'typed_maps.ts');
    const g = spawnSync(process.execPath, [CLI, 'gen', fixture('typed_maps.bpf.o'), '-o', out, '--import', LIB, '--object-path', fixture('typed_maps.bpf.o')], { encoding: 'utf8' });
    assert.is(g.status, 0, g.stderr);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', skipLibCheck: true, types: ['node'], typeRoots: [resolve(REPO, 'node_modules', '@types')] },
      files: ['typed_maps.ts'],
    }));
    const tsc = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir });
    assert.is(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
    const mod = await import(pathToFileURL(join(dir, 'out', 'typed_maps.js')).href) as typeof import('./generated/typed_maps.js');
    const skel = mod.open();
    skel.setGlobal('magic', 0x30).setGlobal('want', 'PROTO_UDP').setGlobal('label', 'typed');
    skel.mapSpec('flows').maxEntries = 128;
    const loaded = skel.load();
    try {
      assert.is(loaded.maps.flows.map.maxEntries, 128, 'the spec change before load took effect');
      const zero = { src: { ip: 0, port: 0, pad: 0 }, dst: { ip: 0, port: 0, pad: 0 }, proto: 0, ipv6: 0, dscp: 0, ttl: 0, spare: 0, ifname: '', cookie: 0n };
      loaded.maps.flows.set(zero, { packets: 10n, delta: -1, hist: [1, 2, 3], seen: true, tag: { as_u32: 5 }, verdict: 'V_DROP' });
      loaded.maps.fifo.push(42);
      const r = loaded.programs.touch.testRun({ data: Buffer.alloc(64) });
      assert.is(r.retval, 0x30 + 1, 'magic set through the typed setGlobal, plus hits');
      assert.equal(loaded.maps.flows.get(zero), { packets: 11n, delta: -1, hist: [1, 2, 3], seen: true, tag: { as_u32: 5, as_bytes: [5, 0, 0, 0] }, verdict: 'V_DROP' });
      assert.equal(loaded.maps['.rodata'].get(0), { magic: 0x30, want: 'PROTO_UDP' });
      assert.equal(loaded.maps['.bss'].get(0), { hits: 1n });
      assert.equal(loaded.maps['.data'].get(0), { label: 'typed' });
      assert.ok(loaded.maps.per_cpu_arr.get(0)?.some((a) => a.port === 17), 'the program wrote want (PROTO_UDP) on its CPU');
      assert.is(loaded.maps.fifo.pop(), 42);
    } finally {
      loaded.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('the committed generated module (test/kernel/generated, compiled with the tests) runs from its OBJECT_FILE', async () => {
  const { load, OBJECT_FILE } = await import('./generated/typed_maps.js');
  assert.is(OBJECT_FILE, fixture('typed_maps.bpf.o'));
  using loaded = load();
  loaded.maps.guarded.set(3, { a: 1, b: 2n });
  assert.equal(loaded.maps.guarded.get(3, { lock: true }), { a: 1, b: 2n });
  assert.equal([...loaded.maps.guarded.keys()], [3]);
});

test.run();
