// A program loads while the process is being profiled. The verifier gives up with EAGAIN when the
// loading thread has a signal pending, and a sampling profiler signals the main thread all the time
// (SIGPROF every 50 µs here): without signals blocked during BPF_PROG_LOAD, verifier_heavy (hundreds
// of milliseconds of verification) never loads, and a feature probe reads the refusal as "absent".
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, REPO } from './helpers.js';

const test = suite('bpf() under a sampling profiler');

/** Run an ES module script under `node --cpu-prof` with a 50 µs interval; its exit code, output and profile count. */
function profiled(script: string): { status: number | null; stdout: string; stderr: string; profiles: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sockaccel-prof-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, '--input-type=module', '-e', script], {
      encoding: 'utf8', timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, profiles: readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LIB = JSON.stringify(join(REPO, 'dist', 'src', 'index.js'));

test('verifier_heavy loads and runs while SIGPROF arrives every 50 µs', () => {
  const r = profiled(`
    import { BpfObject } from ${LIB};
    const loaded = BpfObject.open(${JSON.stringify(fixture('verifier_heavy.bpf.o'))}).load();
    try {
      const [prog] = loaded.programs.values();
      console.log('retval ' + prog.testRun({ data: Buffer.alloc(64, 0xab) }).retval);
    } finally { loaded.close(); }
  `);
  assert.is(r.status, 0, `the profiled load failed:\n${r.stderr}`);
  // (0 + ... + 59999) & 0xff, what verifier_heavy returns: it was loaded and ran.
  assert.is(r.stdout.trim(), 'retval 208');
  assert.is(r.profiles, 1, 'the profiler ran (a profile was written)');
});

test('feature probes (every table row, and the helper `up` needs) answer the same under the profiler', () => {
  const script = `
    import { featureTable, haveHelper } from ${LIB};
    const rows = featureTable().map((r) => [r.group, r.name, r.ok]);
    console.log(JSON.stringify({ rows, netnsCookie: haveHelper('sock_ops', 'get_netns_cookie').ok }));
  `;
  const plain = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(plain.status, 0, plain.stderr);
  assert.ok(JSON.parse(plain.stdout).netnsCookie, 'sock_ops may call bpf_get_netns_cookie here (5.15+)');
  const underProfiler = profiled(script);
  assert.is(underProfiler.status, 0, underProfiler.stderr);
  assert.equal(JSON.parse(underProfiler.stdout), JSON.parse(plain.stdout));
});

test.run();
