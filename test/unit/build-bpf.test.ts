// The committed objects must be exactly what tools/build-bpf.sh builds from their sources, with the
// compiler bpf/BUILT_WITH records. Without a clang of that version the check is skipped (the script
// says so, exit 3) and counted as skipped; without clang, llvm or the headers it fails naming the package.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from './fixtures.js';
import { skipIf } from '../support/skip.js';

// Run when the file loads, so that a skip is known when the test is registered. From another
// directory: the script must not depend on the cwd.
const run = spawnSync('bash', [resolve(REPO_ROOT, 'tools', 'build-bpf.sh'), '--check'], { cwd: '/', encoding: 'utf8' });
const SKIPPED = 3;

skipIf(test, run.status === SKIPPED ? run.stdout.trim() : undefined)('tools/build-bpf.sh --check: committed .bpf.o files match their sources', () => {
  assert.is(run.status, 0, `build-bpf.sh --check failed:\n${run.stdout}${run.stderr}`);
});

test.run();
