// The README's ring buffer example, run exactly as written: the code block after the marker
// `<!-- example: ringbuf` is taken from README.md, its types stripped (the esbuild CLI, nothing
// else changed; a child process, since esbuild's in-process sync API leaves a worker thread, whose
// event loop the events tests would count as a reader's), and run by node from the repository root, where `sockaccel-ffi` resolves to this
// package (dist/pkg, so `npm run build` first). It must print three getppid events in order and exit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIf } from '../support/skip.js';
import { REPO } from './helpers.js';

const t = suite('README examples');

function example(marker: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf(`<!-- example: ${marker}`);
  assert.ok(at >= 0, `README.md has no "<!-- example: ${marker}" marker`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `no ts code block after the ${marker} marker`);
  return block![1]!;
}

const bundle = join(REPO, 'dist', 'pkg', 'index.js');
const esbuild = join(REPO, 'node_modules', '.bin', 'esbuild');
skipIf(t, !existsSync(bundle) ? 'dist/pkg/index.js is missing: run npm run build' : !existsSync(esbuild) ? 'esbuild (a devDependency) is not installed: npm install' : undefined)('ringbuf: a tracepoint program writes events, the for-await loop prints three in order and exits', () => {
  const strip = spawnSync(esbuild, ['--loader=ts', '--format=esm'], { input: example('ringbuf'), encoding: 'utf8' });
  assert.is(strip.status, 0, strip.stderr);
  const js = strip.stdout;
  const dir = join(REPO, '.cache');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `readme-ringbuf-${process.pid}.mjs`);
  writeFileSync(file, js);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.is(lines.length, 3, r.stdout);
    const seqs = lines.map((line) => {
      const m = /^getppid #(\d+) on CPU (\d+)$/.exec(line);
      assert.ok(m, `unexpected line ${JSON.stringify(line)}`);
      return Number(m![1]);
    });
    // A fresh load: the program's counter starts at 0.
    assert.equal(seqs, [0, 1, 2]);
  } finally {
    rmSync(file, { force: true });
  }
});

t.run();
