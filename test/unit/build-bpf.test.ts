// The committed objects must be exactly what tools/build-bpf.sh builds from their sources.
// Without clang this is skipped with a notice, except under CI, where a missing clang fails.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from './fixtures.js';

const haveClang = spawnSync('clang', ['--version'], { stdio: 'ignore' }).status === 0;

test('tools/build-bpf.sh --check: committed .bpf.o files match their sources', () => {
  if (!haveClang) {
    if (process.env.CI) assert.unreachable('clang is not installed, but CI must check the committed BPF objects (apt install clang llvm libbpf-dev linux-libc-dev)');
    console.log('  notice: clang not found; skipping the build-bpf.sh --check comparison');
    return;
  }
  // Run from another directory: the script must not depend on the cwd.
  const run = spawnSync('bash', [resolve(REPO_ROOT, 'tools', 'build-bpf.sh'), '--check'], { cwd: '/', encoding: 'utf8' });
  assert.is(run.status, 0, `build-bpf.sh --check failed:\n${run.stdout}${run.stderr}`);
});

test.run();
